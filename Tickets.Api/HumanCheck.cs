// A human check before a guest token is minted, so that a script pays for each guest it makes. Off unless a
// verify URL is set. Cloudflare Turnstile (https://challenges.cloudflare.com/turnstile/v0/siteverify) and hCaptcha
// (https://api.hcaptcha.com/siteverify) verify a client's response the same way: a form POST of secret, response
// and remoteip answering JSON with "success"; either (or anything that speaks that protocol) plugs in by its URL.
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Tickets.Api;

/// <summary>The "HumanCheck" configuration section.</summary>
public sealed class HumanCheckOptions
{
    /// <summary>The provider's siteverify URL; empty turns the check off.</summary>
    public string VerifyUrl { get; set; } = "";

    /// <summary>The secret key the provider issued for this site.</summary>
    public string Secret { get; set; } = "";

    /// <summary>How long to wait for the provider before answering 503.</summary>
    public int TimeoutSeconds { get; set; } = 5;
}

public sealed class HumanCheck(IOptions<HumanCheckOptions> options, ILogger<HumanCheck> logger) : IDisposable
{
    /// <summary>The request header that carries the widget's response token.</summary>
    public const string Header = "Human-Check";

    private readonly HumanCheckOptions _options = options.Value;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(Math.Max(1, options.Value.TimeoutSeconds)) };

    public bool Enabled => _options.VerifyUrl.Length > 0;

    /// <summary>Null when the check is off or passed; otherwise the problem to answer with.</summary>
    public async Task<IResult?> VerifyAsync(HttpContext context, string clientAddress)
    {
        if (!Enabled)
        {
            return null;
        }
        var response = context.Request.Headers[Header];
        if (response.Count != 1 || response[0] is not { Length: > 0 and <= 4096 } token)
        {
            return Failed($"Send the human check's response in the {Header} header.");
        }
        try
        {
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["secret"] = _options.Secret,
                ["response"] = token,
                ["remoteip"] = clientAddress,
            });
            using var answer = await _http.PostAsync(new Uri(_options.VerifyUrl), form, context.RequestAborted);
            answer.EnsureSuccessStatusCode();
            var verdict = await answer.Content.ReadFromJsonAsync<Verdict>(context.RequestAborted);
            if (verdict?.Success == true)
            {
                return null;
            }
            logger.LogInformation("Human check refused: {ErrorCodes}", string.Join(",", verdict?.ErrorCodes ?? Array.Empty<string>()));
            return Failed("The human check was not passed. Complete it again.");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !context.RequestAborted.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Human check provider unreachable");
            return Problems.Unavailable(ProblemCodes.HumanCheckUnavailable, "The human check could not be verified. Retry shortly.");
        }
    }

    private static IResult Failed(string detail) =>
        Problems.Create(StatusCodes.Status403Forbidden, ProblemCodes.HumanCheckFailed, "Human check required.", detail);

    public void Dispose() => _http.Dispose();

    private sealed class Verdict
    {
        [JsonPropertyName("success")]
        public bool Success { get; set; }

        [JsonPropertyName("error-codes")]
        public string[]? ErrorCodes { get; set; }
    }
}
