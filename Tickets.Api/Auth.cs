// JWT bearer tokens (HS256) and password hashing. Authentication is a call each handler makes, not host
// middleware, so the Functions worker and the local server enforce exactly the same rules.
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tickets.Data;

namespace Tickets.Api;

public sealed class JwtOptions
{
    public const int MinKeyBytes = 32;

    public string SigningKey { get; set; } = "";
    public string Issuer { get; set; } = "tickets";
    public string Audience { get; set; } = "tickets-api";
    public int TokenLifetimeMinutes { get; set; } = 60;

    /// <summary>Null when valid; otherwise what is wrong, for a clear start-up failure.</summary>
    public string? Problem() =>
        SettingReferences.Problem(AppSettingNames.JwtSigningKey, SigningKey) ?? (string.IsNullOrWhiteSpace(SigningKey)
            ? $"{AppSettingNames.JwtSigningKey} is not set. Generate one with: openssl rand -base64 48"
            : Encoding.UTF8.GetByteCount(SigningKey) < MinKeyBytes
                ? $"{AppSettingNames.JwtSigningKey} is shorter than {MinKeyBytes} bytes (256 bits). Generate one with: openssl rand -base64 48"
                : string.IsNullOrWhiteSpace(Issuer) || string.IsNullOrWhiteSpace(Audience)
                    ? $"{AppSettingNames.JwtIssuer} and {AppSettingNames.JwtAudience} must not be empty."
                    : TokenLifetimeMinutes is < 1 or > 24 * 60
                        ? $"{AppSettingNames.JwtTokenLifetimeMinutes} must be between 1 and 1440."
                        : null);
}

/// <summary>The authenticated user of a request.</summary>
public sealed record Caller(Guid UserId, string Role)
{
    public bool IsAdmin => Role == Roles.Admin;
}

public sealed record IssuedToken(string AccessToken, string TokenType, int ExpiresIn);

public sealed class TokenService
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);
    private readonly JwtOptions _options;
    private readonly SymmetricSecurityKey _key;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters _validation;
    private readonly TimeProvider _time;

    // Validated tokens, so a buyer's burst of requests pays for one HMAC check and JSON parse, not one each.
    // Keyed by the whole token string (signature included), so only the exact token that passed validation hits.
    private readonly ConcurrentDictionary<string, (Caller Caller, DateTime ValidTo)> _validated = new(StringComparer.Ordinal);
    private const int MaxCachedTokens = 100_000;

    public TokenService(IOptions<JwtOptions> options, TimeProvider time)
    {
        _options = options.Value;
        if (_options.Problem() is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
        _time = time;
        _key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(_options.SigningKey));
        _validation = new TokenValidationParameters
        {
            ValidIssuer = _options.Issuer,
            ValidAudience = _options.Audience,
            IssuerSigningKey = _key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ValidTypes = ["JWT"],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = ClockSkew,
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = _time.GetUtcNow().UtcDateTime;
                return expires is { } exp && exp.ToUniversalTime() > now - ClockSkew
                    && (notBefore is not { } nbf || nbf.ToUniversalTime() <= now + ClockSkew);
            },
        };
    }

    public IssuedToken Issue(Guid userId, string role)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var lifetime = TimeSpan.FromMinutes(_options.TokenLifetimeMinutes);
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = userId.ToString(),
                ["role"] = role,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
        });
        return new IssuedToken(token, "Bearer", (int)lifetime.TotalSeconds);
    }

    /// <summary>The caller of a request with a valid bearer token, or null.</summary>
    public async Task<Caller?> AuthenticateAsync(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || header.Length > 4096)
        {
            return null;
        }
        var token = header[scheme.Length..].Trim();
        var now = _time.GetUtcNow().UtcDateTime;
        if (_validated.TryGetValue(token, out var cached))
        {
            if (cached.ValidTo + ClockSkew > now)
            {
                return cached.Caller;
            }
            _validated.TryRemove(token, out _);
        }
        var result = await _handler.ValidateTokenAsync(token, _validation);
        if (!result.IsValid
            || !result.Claims.TryGetValue(JwtRegisteredClaimNames.Sub, out var sub) || !Guid.TryParse(sub as string, out var userId)
            || !result.Claims.TryGetValue("role", out var role) || role is not (Roles.User or Roles.Guest or Roles.Admin))
        {
            return null;
        }
        var caller = new Caller(userId, (string)role);
        if (_validated.Count >= MaxCachedTokens)
        {
            _validated.Clear();
        }
        _validated[token] = (caller, result.SecurityToken.ValidTo);
        return caller;
    }

    /// <summary>Issues and validates one throwaway token, so the first buyer's request does not pay for the handler's start.</summary>
    internal async Task WarmUpAsync()
    {
        var token = Issue(Guid.Empty, Roles.Guest).AccessToken;
        await _handler.ValidateTokenAsync(token, _validation);
    }
}

/// <summary>PBKDF2-HMAC-SHA512 with a random salt; the format records the iterations so they can be raised later.</summary>
public static class PasswordHasher
{
    private const int Iterations = 210_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;
    private const string Scheme = "pbkdf2-sha512";
    private static readonly string DummyHash = Hash("timing-equaliser");

    public static string Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, Iterations, HashAlgorithmName.SHA512, HashBytes);
        return $"{Scheme}${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    /// <summary>Constant-time check. A null stored hash (unknown user) still costs one derivation.</summary>
    public static bool Verify(string password, string? stored)
    {
        var parts = (stored ?? DummyHash).Split('$');
        if (parts.Length != 4 || parts[0] != Scheme || !int.TryParse(parts[1], out var iterations) || iterations < 10_000)
        {
            return false;
        }
        var salt = Convert.FromBase64String(parts[2]);
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA512, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected) && stored is not null;
    }
}
