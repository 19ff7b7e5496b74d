// The docs page in a real browser: Debian's chromium, driven by Playwright (its driver ships in the package; the
// browser is installed by scripts/ensure-chromium.sh). Screenshots of each run go to artifacts/browser/.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Tickets.Tests;

public abstract partial class DocsPageBrowserTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : DocsPageBrowserTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : DocsPageBrowserTests(host, output), IClassFixture<FunctionsHost>;

    /// <summary>The browser; TICKETS_TEST_CHROMIUM points elsewhere (Playwright's own download is not used).</summary>
    private static string Chromium => Environment.GetEnvironmentVariable("TICKETS_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private readonly ITestOutputHelper _output = output;

    [Fact]
    public async Task Try_it_out_gets_a_guest_token_authorizes_and_holds_seats_with_every_request_going_to_this_server()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Docs page", capacity = 10 });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium });
        await using var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 1000 } });
        var requests = new ConcurrentQueue<IRequest>();
        context.Request += (_, request) => requests.Enqueue(request);
        var page = await context.NewPageAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        var screenshots = Path.Combine(Repository.Root, "artifacts", "browser");
        Directory.CreateDirectory(screenshots);
        try
        {
            // The walk-through, step 1: a guest token through try-it-out on POST /api/auth/guest.
            await page.GotoAsync(new Uri(Host.BaseAddress, "docs").ToString());
            await page.GetByLabel("Bearer Token").First.WaitForAsync();
            await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, $"docs-page-{Host.Name}.png") });
            await page.GotoAsync(new Uri(Host.BaseAddress, "docs/#tag/auth/POST/api/auth/guest").ToString());
            await TestRequestAsync(page, "v1/tag/auth/POST/api/auth/guest");
            var guest = await SendAsync(page, dialog, "auth/guest");
            Assert.Equal(201, guest.Status);
            // The response has arrived; the page renders its body a moment later (seen slow on a loaded machine).
            await dialog.GetByText("201 Created").WaitForAsync();
            var token = Jwt().Match(await dialog.InnerTextAsync()).Value;
            var waited = Stopwatch.StartNew();
            while (token.Length == 0 && waited.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(100);
                token = Jwt().Match(await dialog.InnerTextAsync()).Value;
            }
            Assert.False(string.IsNullOrEmpty(token), "no token shown in the response of POST /api/auth/guest");

            // Step 2: authorize with it (the document's bearer scheme), then hold seats of the admin's event.
            await dialog.GetByLabel("Bearer Token").FillAsync(token);
            await page.Keyboard.PressAsync("Escape");
            await page.GotoAsync(new Uri(Host.BaseAddress, "docs/#tag/reservations/POST/api/reservations/hold").ToString());
            await TestRequestAsync(page, "v1/tag/reservations/POST/api/reservations/hold");
            await dialog.Locator(".cm-content").Filter(new() { HasText = "eventId" }).ClickAsync();
            await page.Keyboard.PressAsync("Control+A");
            await page.Keyboard.InsertTextAsync($$"""{"eventId": "{{ev.Id}}", "quantity": 3}""");
            var hold = await SendAsync(page, dialog, "reservations/hold");
            Assert.Equal(201, hold.Status);
            Assert.Equal($"Bearer {token}", await hold.Request.HeaderValueAsync("authorization"));
            await dialog.GetByText("201 Created").WaitForAsync();
        }
        finally
        {
            var shot = Path.Combine(screenshots, $"try-it-out-{Host.Name}.png");
            await page.ScreenshotAsync(new() { Path = shot });
            _output.WriteLine($"Screenshots: {screenshots}");
        }

        var after = await Host.GetEventAsync(ev.Id);
        Assert.Equal((7, 3, 0), (after.Available, after.Held, after.Confirmed));
        var origin = Host.BaseAddress.GetLeftPart(UriPartial.Authority);
        var urls = requests.Select(r => r.Url).ToList();
        _output.WriteLine(string.Join('\n', urls));
        Assert.All(urls, url => Assert.Equal(origin, new Uri(url).GetLeftPart(UriPartial.Authority)));
        Assert.Contains($"{origin}/api/docs/scalar.js", urls);
        Assert.Contains($"{origin}/api/openapi.json", urls);
    }

    private static Task TestRequestAsync(IPage page, string operation) =>
        page.Locator($"[id='{operation}']").GetByRole(AriaRole.Button, new() { NameRegex = TestRequest() }).ClickAsync();

    /// <summary>Presses the dialog's Send and returns the response to <paramref name="route"/> it caused.</summary>
    private static Task<IResponse> SendAsync(IPage page, ILocator dialog, string route) =>
        page.RunAndWaitForResponseAsync(
            () => dialog.GetByRole(AriaRole.Button, new() { Name = "Send" }).First.ClickAsync(),
            response => response.Url.EndsWith($"/api/{route}", StringComparison.Ordinal));

    [GeneratedRegex(@"eyJ[\w-]+\.[\w-]+\.[\w-]+")]
    private static partial Regex Jwt();

    [GeneratedRegex("Test Request")]
    private static partial Regex TestRequest();
}
