using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tickets.Api;

namespace Tickets.Tests;

/// <summary>What HTTP itself asks of the API: HEAD, safe response headers, dates with offsets, slow bodies.</summary>
public abstract partial class HttpEdgesApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : HttpEdgesApiTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : HttpEdgesApiTests(host, output), IClassFixture<FunctionsHost>;

    [Fact]
    public async Task Head_on_a_get_route_answers_as_get_without_a_body()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Head", capacity = 5 });
        foreach (var path in new[] { "events", $"events/{ev.Id}", "health/live", "docs" })
        {
            using var head = await Host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
            Assert.True(head.StatusCode == HttpStatusCode.OK, $"HEAD {path}: {(int)head.StatusCode}");
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task Answers_forbid_content_sniffing()
    {
        using var ok = await Host.Client.GetAsync("events");
        using var problem = await Host.Client.GetAsync($"events/{Guid.NewGuid()}");
        using var unauthorized = await Host.Client.PostAsJsonAsync("reservations/hold", new { eventId = Guid.NewGuid(), quantity = 1 });
        foreach (var response in new[] { ok, problem, unauthorized })
        {
            Assert.Equal("nosniff", string.Join(",", response.Headers.TryGetValues("X-Content-Type-Options", out var values) ? values : []));
        }
    }

    [Fact]
    public async Task The_docs_page_runs_only_its_own_scripts_and_refuses_framing()
    {
        using var response = await Host.Client.GetAsync("docs");
        var html = await response.Content.ReadAsStringAsync();
        var policy = string.Join(",", response.Headers.TryGetValues("Content-Security-Policy", out var values) ? values : []);

        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self';", policy, StringComparison.Ordinal);
        var scriptSources = Regex.Match(policy, "script-src ([^;]*);").Groups[1].Value;
        Assert.DoesNotContain("unsafe", scriptSources, StringComparison.Ordinal);
        var nonce = Regex.Match(scriptSources, "'nonce-([^']+)'").Groups[1].Value;
        Assert.NotEmpty(nonce);
        var scripts = ScriptTag().Matches(html);
        Assert.NotEmpty(scripts);
        // Every script is of this origin (a relative src) or inline with this response's nonce.
        Assert.All(scripts, script => Assert.True(
            script.Groups["src"].Success ? !script.Groups["src"].Value.Contains(':', StringComparison.Ordinal) : script.Groups["nonce"].Value == nonce,
            script.Value));
        Assert.Equal("DENY", string.Join(",", response.Headers.TryGetValues("X-Frame-Options", out var frame) ? frame : []));
    }

    [Fact]
    public async Task Dates_at_the_extremes_come_back_in_utc_with_a_z()
    {
        using var client = Host.NewClient(await Host.AdminTokenAsync());
        using var created = await client.PostAsJsonAsync("events", new
        {
            name = "Extremes",
            capacity = 1,
            salesOpensAt = "0001-01-01T00:00:00Z",
            salesClosesAt = "9999-12-31T23:59:59.9999999Z",
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        var read = JsonDocument.Parse(await Host.Client.GetStringAsync($"events/{id}")).RootElement;
        foreach (var name in new[] { "salesOpensAt", "salesClosesAt", "createdAt", "updatedAt" })
        {
            Assert.EndsWith("Z", read.GetProperty(name).GetString(), StringComparison.Ordinal);
        }
        Assert.StartsWith("0001-01-01T00:00:00", read.GetProperty("salesOpensAt").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("9999-12-31T23:59:59", read.GetProperty("salesClosesAt").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_date_without_an_offset_is_refused_rather_than_read_in_server_time()
    {
        using var client = Host.NewClient(await Host.AdminTokenAsync());
        using var create = await client.PostAsJsonAsync("events", new { name = "Local", capacity = 1, salesOpensAt = "2030-01-01T00:00:00" });
        await ProblemAssert.IsProblemAsync(create, 400, ProblemCodes.InvalidJson);

        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Patch", capacity = 1 });
        using var patch = await client.PatchAsJsonAsync($"events/{ev.Id}", new { salesClosesAt = "2030-01-01T00:00:00" });
        await ProblemAssert.IsProblemAsync(patch, 400, ProblemCodes.InvalidRequest);
        using var withOffset = await client.PatchAsJsonAsync($"events/{ev.Id}", new { salesClosesAt = "2030-01-01T00:00:00+02:00" });
        Assert.Equal(HttpStatusCode.OK, withOffset.StatusCode);
        Assert.Equal("2029-12-31T22:00:00Z", JsonDocument.Parse(await withOffset.Content.ReadAsStringAsync()).RootElement.GetProperty("salesClosesAt").GetString());
    }

    /// <summary>
    /// A body that trickles in slower than the web server's minimum data rate. Tickets.Server answers the problem
    /// (408); in the Functions app the platform's front end reads the body before any worker code runs, so there
    /// the answer is the front end's (here the stand-in host's bare 408).
    /// </summary>
    [Fact]
    public async Task A_request_body_that_arrives_too_slowly_gets_408_without_naming_server_settings()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(Host.BaseAddress.Host, Host.BaseAddress.Port);
        var head = $"POST {Host.BaseAddress.AbsolutePath}auth/register HTTP/1.1\r\nHost: {Host.BaseAddress.Authority}\r\n" +
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"email\":";
        await socket.SendAsync(new ReadOnlyMemory<byte>(Encoding.ASCII.GetBytes(head)), SocketFlags.None);

        var received = new MemoryStream();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
                if (Encoding.ASCII.GetString(received.ToArray()) is var text && text.Contains("\r\n\r\n", StringComparison.Ordinal)
                    && (!text.Contains("Content-Length: ", StringComparison.OrdinalIgnoreCase) || text.EndsWith('}')))
                {
                    break;
                }
            }
        }
        catch (SocketException)
        {
            // The server may reset the connection after its answer.
        }
        var response = Encoding.UTF8.GetString(received.ToArray());
        Assert.StartsWith("HTTP/1.1 408", response, StringComparison.Ordinal);
        Assert.DoesNotContain("MinRequestBodyDataRate", response, StringComparison.Ordinal);
        if (Host is ServerHost)
        {
            Assert.Contains("application/problem+json", response, StringComparison.Ordinal);
            Assert.Contains($"\"code\":\"{ProblemCodes.RequestTimeout}\"", response, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex("""<script(?=(?:[^>]*?\ssrc="(?<src>[^"]*)")?)(?=(?:[^>]*?\snonce="(?<nonce>[^"]*)")?)[^>]*>""")]
    private static partial Regex ScriptTag();
}
