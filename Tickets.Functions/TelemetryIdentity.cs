// Application Insights in Azure takes telemetry only from the app's managed identity (local authentication is off
// in infra/). The host and the worker's Application Insights SDK find that identity in
// APPLICATIONINSIGHTS_AUTHENTICATION_STRING themselves; the OpenTelemetry metric exporter does not read it, so it
// gets a credential for the same identity from the same setting.
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Tickets.Api;

namespace Tickets.Functions;

internal static class TelemetryIdentity
{
    /// <summary>Null without the setting (local runs, where the connection string alone authenticates).</summary>
    public static TokenCredential? Credential(IConfiguration configuration)
    {
        var value = configuration[AppSettingNames.AppInsightsAuthenticationString];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var parts = value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2)
            .ToLookup(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);
        if (!parts["Authorization"].Contains("AAD", StringComparer.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{AppSettingNames.AppInsightsAuthenticationString} must contain Authorization=AAD.");
        }
        var clientId = parts["ClientId"].FirstOrDefault();
        return new ManagedIdentityCredential(clientId is null
            ? ManagedIdentityId.SystemAssigned
            : ManagedIdentityId.FromUserAssignedClientId(clientId));
    }
}
