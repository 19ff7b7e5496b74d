// App Service and Azure Functions replace a setting written as a Key Vault (or App Configuration) reference with
// the secret it names. When that fails (the identity's role not yet propagated, a deleted secret, an unreachable
// vault) the setting keeps the reference text itself, and the app would read that as the value. The text is no
// secret: its only variable part is a vault name. A signing key made of it lets anyone mint tokens, so a setting
// that still holds a reference stops the app from starting instead.
namespace Tickets.Api;

public static class SettingReferences
{
    private static readonly string[] Markers = ["@Microsoft.KeyVault(", "@Microsoft.AppConfiguration("];

    public static bool IsUnresolved(string? value) =>
        value is not null && Markers.Any(marker => value.Contains(marker, StringComparison.OrdinalIgnoreCase));

    /// <summary>Null when the value is not a reference; otherwise a message naming the setting (never its value).</summary>
    public static string? Problem(string settingName, string? value) =>
        IsUnresolved(value)
            ? $"{settingName} holds an unresolved @Microsoft.KeyVault(...) or @Microsoft.AppConfiguration(...) reference " +
              "instead of the secret it names, so the platform could not read the secret. Start-up is refused rather than " +
              "use the reference text as the value. Check the setting's reference status and the app identity's access " +
              "to the vault, then restart the app (docs/deploy.md, runbook)."
            : null;
}
