// The settings the app reads, by the environment-variable names both hosts and Azure use.
// The infrastructure tests check the Bicep app settings and local.settings.sample.json against these lists.
namespace Tickets.Api;

public static class AppSettingNames
{
    public const string ConnectionString = "ConnectionStrings__Tickets";
    public const string JwtSigningKey = "Jwt__SigningKey";
    public const string JwtIssuer = "Jwt__Issuer";
    public const string JwtAudience = "Jwt__Audience";
    public const string JwtTokenLifetimeMinutes = "Jwt__TokenLifetimeMinutes";
    public const string HoldMode = "Tickets__HoldMode";
    public const string WebhookSecretKey = "Webhooks__SecretKey";
    public const string WebhookAllowHttp = "Webhooks__AllowHttp";
    public const string WebhookAllowLoopbackTargets = "Webhooks__AllowLoopbackTargets";
    public const string TimerStorageAccount = "AzureWebJobsStorage__accountName";
    public const string AppInsightsConnectionString = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AppInsightsAuthenticationString = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>Settings a deployed Functions app must be given; everything else has a safe default.</summary>
    public static readonly IReadOnlyList<string> RequiredInAzure =
    [
        ConnectionString, JwtSigningKey, JwtIssuer, JwtAudience, HoldMode, TimerStorageAccount, AppInsightsConnectionString,
        AppInsightsAuthenticationString, WebhookSecretKey,
    ];

    /// <summary>Settings of the application itself (not of the Functions host), as the local server reads them.</summary>
    public static readonly IReadOnlyList<string> Application =
    [
        ConnectionString, JwtSigningKey, JwtIssuer, JwtAudience, JwtTokenLifetimeMinutes, HoldMode, WebhookSecretKey,
    ];
}
