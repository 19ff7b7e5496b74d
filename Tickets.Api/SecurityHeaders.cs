// Response headers every answer carries, set by both hosts before the handler runs, and the stricter ones of the
// documentation page.
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Tickets.Api;

public static partial class SecurityHeaders
{
    /// <summary>No content sniffing: a JSON or problem body is never run as a script or rendered as HTML.</summary>
    public static void Apply(HttpResponse response) => response.Headers.XContentTypeOptions = "nosniff";

    /// <summary>
    /// The documentation page's policy: only its own inline script and style (by hash, so nothing injected runs),
    /// fetches of this origin (openapi.json), and no framing by anyone (clickjacking).
    /// </summary>
    public static string DocsContentSecurityPolicy(string html) =>
        $"default-src 'none'; script-src {Hashes(html, "script")}; style-src {Hashes(html, "style")}; connect-src 'self'; " +
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static string Hashes(string html, string element)
    {
        var hashes = InlineElement().Matches(html)
            .Where(m => m.Groups["tag"].Value == element)
            .Select(m => $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(m.Groups["body"].Value)))}'")
            .ToList();
        return hashes.Count == 0 ? "'none'" : string.Join(' ', hashes);
    }

    [GeneratedRegex("<(?<tag>script|style)>(?<body>.*?)</\\k<tag>>", RegexOptions.Singleline)]
    private static partial Regex InlineElement();
}
