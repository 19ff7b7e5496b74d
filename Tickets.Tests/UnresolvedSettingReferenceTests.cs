using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tickets.Api;
using Tickets.Server;

namespace Tickets.Tests;

/// <summary>
/// A Key Vault reference that App Service could not resolve stays in the setting as text. Both hosts must refuse to
/// start with it as the JWT signing key or the connection string, and say which setting, never what it holds.
/// </summary>
public sealed class UnresolvedSettingReferenceTests
{
    private const string VaultName = "kv-tickets-q7x2m4";

    public static TheoryData<string> References => new()
    {
        $"@Microsoft.KeyVault(SecretUri=https://{VaultName}.vault.azure.net/secrets/jwt-signing-key/)",
        $"@Microsoft.KeyVault(VaultName={VaultName};SecretName=jwt-signing-key)",
        $"  @microsoft.keyvault(SecretUri=https://{VaultName}.vault.azure.net/secrets/jwt-signing-key/)",
        $"@Microsoft.AppConfiguration(Endpoint=https://{VaultName}.azconfig.io; Key=jwt-signing-key)",
    };

    private static Dictionary<string, string?> ValidSettings() => new()
    {
        ["ConnectionStrings:Tickets"] = "Host=127.0.0.1;Port=55432;Username=postgres;Database=tickets",
        ["Jwt:SigningKey"] = ApiHost.SigningKey,
    };

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddTickets(configuration);
        return services.BuildServiceProvider();
    }

    [Theory]
    [MemberData(nameof(References))]
    public void A_signing_key_that_is_still_a_reference_is_refused_by_name_without_its_value(string reference)
    {
        // Long enough to pass the length check: the reference text must not count as a key.
        Assert.True(reference.Length >= JwtOptions.MinKeyBytes);

        var problem = new JwtOptions { SigningKey = reference }.Problem();

        Assert.NotNull(problem);
        Assert.StartsWith(AppSettingNames.JwtSigningKey, problem, StringComparison.Ordinal);
        Assert.DoesNotContain(VaultName, problem, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(References))]
    public void The_options_validator_refuses_a_signing_key_that_is_still_a_reference(string reference)
    {
        var settings = ValidSettings();
        settings["Jwt:SigningKey"] = reference;
        using var services = Services(settings);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<JwtOptions>>().Value);

        Assert.Contains(AppSettingNames.JwtSigningKey, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(VaultName, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(References))]
    public void The_options_validator_refuses_a_connection_string_that_is_still_a_reference(string reference)
    {
        var settings = ValidSettings();
        settings["ConnectionStrings:Tickets"] = reference;
        using var services = Services(settings);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DatabaseOptions>>().Value);

        Assert.Contains(AppSettingNames.ConnectionString, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(VaultName, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(References))]
    public void Creating_the_data_source_refuses_a_connection_string_that_is_still_a_reference(string reference)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Tickets"] = reference })
            .Build();

        var error = Assert.Throws<InvalidOperationException>(() => TicketsServices.CreateDataSource(configuration, NullLoggerFactory.Instance));

        Assert.StartsWith(AppSettingNames.ConnectionString, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(VaultName, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Resolved_values_pass()
    {
        using var services = Services(ValidSettings());

        Assert.Equal(ApiHost.SigningKey, services.GetRequiredService<IOptions<JwtOptions>>().Value.SigningKey);
        Assert.NotNull(services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString);
        Assert.False(SettingReferences.IsUnresolved("Host=db;Password=Microsoft.KeyVault"));
    }

    [Theory]
    [InlineData("ConnectionStrings:Tickets", AppSettingNames.ConnectionString)]
    [InlineData("Jwt:SigningKey", AppSettingNames.JwtSigningKey)]
    public async Task The_server_refuses_to_start_with_a_reference_in_place_of_a_secret(string key, string settingName)
    {
        var settings = ValidSettings();
        settings[key] = $"@Microsoft.KeyVault(SecretUri=https://{VaultName}.vault.azure.net/secrets/secret/)";
        await using var app = await ServerApp.BuildAsync(["--urls", "http://127.0.0.1:0", "--environment", "Production"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.ClearProviders();
        });

        // Options validation or, when a hosted service needs the database first, creating the data source: either
        // way the same check refuses.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());
        Assert.True(error is OptionsValidationException or InvalidOperationException, error.ToString());

        Assert.Contains(settingName, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(VaultName, error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
