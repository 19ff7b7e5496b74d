// /api/docs: a self-contained page that renders the generated OpenAPI document (no CDN, so it works offline).
// Read also serves the other embedded resources (the common-password list).
using Microsoft.AspNetCore.Http;

namespace Tickets.Api;

public static class DocsEndpoints
{
    private static readonly Lazy<string> Html = new(() => Read("docs.html"));

    private static readonly Lazy<string> Policy = new(() => SecurityHeaders.DocsContentSecurityPolicy(Html.Value));

    public static IResult Page() => new DocsPage(TypedResults.Text(Html.Value, "text/html; charset=utf-8"));

    /// <summary>The page with its content security policy and no framing (X-Frame-Options for older browsers).</summary>
    private sealed class DocsPage(IResult page) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.ContentSecurityPolicy = Policy.Value;
            httpContext.Response.Headers.XFrameOptions = "DENY";
            return page.ExecuteAsync(httpContext);
        }
    }

    internal static string Read(string name)
    {
        using var stream = typeof(DocsEndpoints).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded resource {name} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
