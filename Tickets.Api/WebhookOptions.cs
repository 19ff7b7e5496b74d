// The "Webhooks" configuration section, and the sealing of signing secrets under Webhooks:SecretKey.
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Tickets.Api;

public sealed class WebhookOptions
{
    /// <summary>
    /// Base64 of 32 random bytes: the AES-256-GCM key that seals subscriptions' signing secrets in the database, so
    /// a dump alone cannot sign. Unset: the webhook endpoints answer 503 and nothing is delivered.
    /// </summary>
    public string? SecretKey { get; set; }

    /// <summary>Development only: allow plain http targets.</summary>
    public bool AllowHttp { get; set; }

    /// <summary>Tests and local development only: allow targets on loopback addresses (127.0.0.0/8, ::1).</summary>
    public bool AllowLoopbackTargets { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>From the request sent to the end of the (capped) response body.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first retry's delay; each later one doubles it, with jitter, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a message is retried before it is dead-lettered.</summary>
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromDays(1);

    /// <summary>A subscription all of whose deliveries failed for this long is disabled.</summary>
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long the previous secret keeps signing after a rotation.</summary>
    public TimeSpan SecretRotationGrace { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Messages claimed per round, and sent at most this many at once.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>Requests in flight to one endpoint (host and port) from this instance, over all rounds.</summary>
    public int MaxConcurrentDeliveries { get; set; } = 32;

    /// <summary>
    /// Rounds run at once by an instance while messages remain: a round waits for its slowest request before it
    /// records and claims again, so with one round a few slow answers left the other connections idle, and
    /// delivery fell behind the confirms of an on-sale.
    /// </summary>
    public int ConcurrentRounds { get; set; } = 4;

    /// <summary>How long the server's delivery loop waits after a round that found nothing due.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one run of the Functions timer keeps delivering while messages remain.</summary>
    public TimeSpan DrainBudget { get; set; } = TimeSpan.FromSeconds(50);

    /// <summary>Delivered and dead messages are deleted after this long.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    public const int MaxResponseBodyBytes = 1024;

    /// <summary>Null when usable; otherwise what is wrong, naming the setting but never showing its value.</summary>
    public string? Problem()
    {
        if (string.IsNullOrEmpty(SecretKey))
        {
            return null;
        }
        if (SettingReferences.Problem(AppSettingNames.WebhookSecretKey, SecretKey) is { } unresolved)
        {
            return unresolved;
        }
        var key = new byte[32];
        return Convert.TryFromBase64String(SecretKey, key, out var written) && written == 32
            ? null
            : $"{AppSettingNames.WebhookSecretKey} must be the base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`).";
    }

    internal sealed class Validator : IValidateOptions<WebhookOptions>
    {
        public ValidateOptionsResult Validate(string? name, WebhookOptions options) =>
            options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }
}

/// <summary>
/// Signing secrets (Standard Webhooks: <c>whsec_</c> + base64 of 32 random bytes) sealed with AES-256-GCM under
/// <see cref="WebhookOptions.SecretKey"/>; the subscription id is the associated data, so a sealed secret copied to
/// another subscription's row does not open.
/// </summary>
public sealed class WebhookSecrets(IOptions<WebhookOptions> options)
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    public const string Prefix = "whsec_";

    private readonly byte[]? _key = options.Value.SecretKey is { Length: > 0 } k && options.Value.Problem() is null ? Convert.FromBase64String(k) : null;

    public bool Configured => _key is not null;

    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The HMAC key a secret stands for: the bytes after the prefix.</summary>
    public static byte[] KeyOf(string secret) => Convert.FromBase64String(secret[Prefix.Length..]);

    public byte[] Seal(Guid subscriptionId, string secret)
    {
        var key = _key ?? throw new InvalidOperationException($"{AppSettingNames.WebhookSecretKey} is not set.");
        var plain = Encoding.UTF8.GetBytes(secret);
        var sealedBytes = new byte[1 + NonceSize + TagSize + plain.Length];
        sealedBytes[0] = Version;
        var nonce = sealedBytes.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(1 + NonceSize + TagSize), sealedBytes.AsSpan(1 + NonceSize, TagSize), subscriptionId.ToByteArray());
        return sealedBytes;
    }

    public string Open(Guid subscriptionId, byte[] sealedBytes)
    {
        var key = _key ?? throw new InvalidOperationException($"{AppSettingNames.WebhookSecretKey} is not set.");
        if (sealedBytes.Length < 1 + NonceSize + TagSize || sealedBytes[0] != Version)
        {
            throw new CryptographicException("Not a sealed webhook secret.");
        }
        var plain = new byte[sealedBytes.Length - 1 - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(sealedBytes.AsSpan(1, NonceSize), sealedBytes.AsSpan(1 + NonceSize + TagSize), sealedBytes.AsSpan(1 + NonceSize, TagSize), plain,
            subscriptionId.ToByteArray());
        return Encoding.UTF8.GetString(plain);
    }
}
