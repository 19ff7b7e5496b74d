// /api/docs: Scalar's interactive API reference (Scalar.AspNetCore) over the generated document at
// /api/openapi.json (ApiDocument). Its HTML and scripts come from the package itself, so nothing is fetched from a
// CDN and the page works offline. Read also serves the other embedded resources (the common-password list).
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Scalar.AspNetCore;

namespace Tickets.Api;

public static class DocsEndpoints
{
    /// <summary>The page (GET /api/docs answers with a redirect to /api/docs/, so that its relative links resolve).</summary>
    public static IResult Page(HttpContext context) => context.RequestServices.GetRequiredService<DocsPage>().Page();

    /// <summary>The page's own files: Scalar's scripts and icon.</summary>
    public static IResult File(HttpContext context, string name) => context.RequestServices.GetRequiredService<DocsPage>().File(name);

    internal static string Read(string name)
    {
        using var stream = typeof(DocsEndpoints).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded resource {name} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>
/// Scalar's endpoints for the page and its files. Scalar maps them into an ASP.NET Core route builder, which the
/// Functions worker does not have; so they are mapped once into a private one here, and both hosts reach them
/// through the route table (docs, docs/{file}).
/// </summary>
public sealed class DocsPage
{
    private readonly RequestDelegate _page;
    private readonly Dictionary<string, RequestDelegate> _files;

    public DocsPage(IServiceProvider services)
    {
        var routes = new PrivateRouteBuilder(services);
        routes.MapScalarApiReference($"/{ApiRoutes.Prefix}/{ApiRoutes.Docs}", DocsIntro.Configure);
        var endpoints = routes.DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>().ToList();
        _page = endpoints.Single(e => e.RoutePattern.Parameters.Count > 0).RequestDelegate!;
        _files = endpoints.Where(e => e.RoutePattern.Parameters.Count == 0)
            .ToDictionary(e => e.RoutePattern.RawText!.Split('/')[^1], e => e.RequestDelegate!, StringComparer.Ordinal);
    }

    public IResult Page() => new Delegated(_page, isPage: true);

    public IResult File(string name) =>
        _files.TryGetValue(name, out var file) ? new Delegated(file, isPage: false) : Problems.NotFound("The docs page has no such file.");

    /// <summary>
    /// Runs one of Scalar's endpoints. The page gets its content security policy with the nonce Scalar put on its
    /// script tags for this response, and no framing (X-Frame-Options for older browsers).
    /// </summary>
    private sealed class Delegated(RequestDelegate endpoint, bool isPage) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            if (isPage)
            {
                httpContext.Response.OnStarting(() =>
                {
                    var nonce = httpContext.Items[ScalarOptions.NonceHttpContextItemKey] as string;
                    httpContext.Response.Headers.ContentSecurityPolicy = SecurityHeaders.DocsContentSecurityPolicy(nonce);
                    httpContext.Response.Headers.XFrameOptions = "DENY";
                    return Task.CompletedTask;
                });
            }
            return endpoint(httpContext);
        }
    }

    private sealed class PrivateRouteBuilder(IServiceProvider services) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => services;

        public ICollection<EndpointDataSource> DataSources { get; } = [];

        public IApplicationBuilder CreateApplicationBuilder() => new ApplicationBuilder(services);
    }
}
