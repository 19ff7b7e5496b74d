using System.Text;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using Tickets.Api;

namespace Tickets.Tests;

/// <summary>
/// The generated OpenAPI document: valid OpenAPI 3.1, every declared operation in it with its problem codes, and
/// the same bytes from both hosts.
/// </summary>
public sealed class OpenApiDocumentTests(ServerHost server, FunctionsHost functions) : IClassFixture<ServerHost>, IClassFixture<FunctionsHost>
{
    [Fact]
    public async Task Both_hosts_serve_the_same_bytes_the_declaration_generates()
    {
        using var fromServer = await server.Client.GetAsync("openapi.json");
        using var fromFunctions = await functions.Client.GetAsync("openapi.json");
        Assert.Equal(("application/json", "application/json"),
            (fromServer.Content.Headers.ContentType?.MediaType, fromFunctions.Content.Headers.ContentType?.MediaType));
        var serverBytes = await fromServer.Content.ReadAsByteArrayAsync();
        var functionsBytes = await fromFunctions.Content.ReadAsByteArrayAsync();
        Assert.True(serverBytes.Length > 10_000, $"only {serverBytes.Length} bytes");
        Assert.Equal(serverBytes, functionsBytes);
        Assert.Equal(Encoding.UTF8.GetBytes(await ApiDocument.GenerateAsync(CancellationToken.None)), serverBytes);
    }

    [Fact]
    public async Task The_document_is_valid_openapi_3_1_without_errors_or_warnings()
    {
        var (document, diagnostic) = await ReadAsync();
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, diagnostic.SpecificationVersion);
        Assert.Empty(diagnostic.Errors.Select(e => $"{e.Pointer}: {e.Message}"));
        Assert.Empty(diagnostic.Warnings.Select(e => $"{e.Pointer}: {e.Message}"));
        Assert.NotNull(document);
    }

    [Fact]
    public async Task Every_declared_operation_is_documented_once_with_every_problem_code_and_nothing_else()
    {
        var (document, _) = await ReadAsync();
        var documented = document.Paths.SelectMany(path => path.Value.Operations!.Select(op => (Path: path.Key, Method: op.Key.Method, Operation: op.Value)))
            .ToDictionary(o => o.Operation.OperationId!, StringComparer.Ordinal);
        Assert.Equal(ApiRoutes.All.Where(r => r.Documented).Select(r => r.Name).Order(StringComparer.Ordinal), documented.Keys.Order(StringComparer.Ordinal));
        foreach (var route in ApiRoutes.All.Where(r => r.Documented))
        {
            var (path, method, operation) = documented[route.Name];
            Assert.Equal(($"/{ApiRoutes.Prefix}/{route.Template}", route.Method), (path, method));
            Assert.Equal(route.Summary, operation.Summary);
            Assert.Equal(route.Access != Access.Anyone, operation.Security is { Count: > 0 });
            var expected = route.AllProblems().Select(p => (p.Status.ToString(System.Globalization.CultureInfo.InvariantCulture), string.Join(",", p.Codes.Order(StringComparer.Ordinal))))
                .Append((route.Status.ToString(System.Globalization.CultureInfo.InvariantCulture), ""))
                .Order().ToList();
            var actual = operation.Responses!.Select(r => (r.Key, r.Value.Extensions is { } x && x.TryGetValue(ApiDocument.ProblemCodesExtension, out var codes)
                    ? string.Join(",", ((JsonNodeExtension)codes).Node.AsArray().Select(c => c!.GetValue<string>()).Order(StringComparer.Ordinal)) : ""))
                .Order().ToList();
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public async Task Every_problem_code_of_the_api_appears_in_some_response()
    {
        var json = await ApiDocument.GenerateAsync(CancellationToken.None);
        var codes = typeof(ProblemCodes).GetFields().Select(f => (string)f.GetRawConstantValue()!)
            // Answered by the server for routes and methods no operation declares, and by the one exception handler.
            .Except([ProblemCodes.MethodNotAllowed, ProblemCodes.InternalError]);
        Assert.All(codes, code => Assert.Contains($"\"{code}\"", json, StringComparison.Ordinal));
    }

    private static async Task<(OpenApiDocument Document, OpenApiDiagnostic Diagnostic)> ReadAsync()
    {
        var json = await ApiDocument.GenerateAsync(CancellationToken.None);
        var result = OpenApiDocument.Parse(json, "json", new OpenApiReaderSettings());
        return (result.Document!, result.Diagnostic!);
    }
}
