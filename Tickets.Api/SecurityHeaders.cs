// Response headers every answer carries, set by both hosts before the handler runs, and the stricter ones of the
// documentation page.
using Microsoft.AspNetCore.Http;

namespace Tickets.Api;

public static class SecurityHeaders
{
    /// <summary>No content sniffing: a JSON or problem body is never run as a script or rendered as HTML.</summary>
    public static void Apply(HttpResponse response) => response.Headers.XContentTypeOptions = "nosniff";

    /// <summary>
    /// The documentation page's policy: scripts of this origin and the inline one carrying this response's nonce
    /// (so nothing injected runs), fetches of this origin only (the document, try-it-out), and no framing by anyone
    /// (clickjacking). Styles may be inline: Scalar's components set theirs from script at run time.
    /// </summary>
    public static string DocsContentSecurityPolicy(string? nonce) =>
        $"default-src 'none'; script-src 'self'{(nonce is null ? "" : $" 'nonce-{nonce}'")}; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
        "img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
}
