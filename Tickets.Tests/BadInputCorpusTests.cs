// Hostile and broken requests across every endpoint: 278 cases, 268 in Corpus() and 10 in FormerServerErrors()
// (inputs that once got a 500). Each must get its exact 4xx answer and leave the database unchanged.
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// Shared state for the corpus: an admin, a user with a hold, a confirmed and a released reservation, another
/// user's hold, an event, and a registered email. Made once: every case must leave all of it as it was.
/// </summary>
public abstract class CorpusFixture(ApiHost host) : IAsyncLifetime
{
    public sealed class OnServer() : CorpusFixture(new ServerHost());

    public sealed class OnFunctions() : CorpusFixture(new FunctionsHost());

    public ApiHost Server { get; } = host;
    public string AdminToken { get; private set; } = "";
    public string UserToken { get; private set; } = "";
    public string GuestToken { get; private set; } = "";
    public Guid EventId { get; private set; }
    public Guid OthersReservationId { get; private set; }
    public Guid OwnReservationId { get; private set; }
    public Guid OwnConfirmedId { get; private set; }
    public Guid OwnReleasedId { get; private set; }
    public string UserEmail { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        AdminToken = await Server.AdminTokenAsync();
        (_, UserToken) = await Server.UserAsync();
        GuestToken = await Server.GuestTokenAsync();
        EventId = (await Server.CreateEventAsync(AdminToken, new { name = "Corpus", capacity = 20, maxTicketsPerUser = 5 })).Id;
        OthersReservationId = await HoldAsync(await Server.GuestTokenAsync());
        OwnReservationId = await HoldAsync(UserToken);
        OwnConfirmedId = await HoldAsync(UserToken);
        OwnReleasedId = await HoldAsync(UserToken);
        using (var user = Server.NewClient(UserToken))
        {
            using var confirm = await user.PostAsync($"reservations/{OwnConfirmedId}/confirm", null);
            Assert.Equal(System.Net.HttpStatusCode.OK, confirm.StatusCode);
            using var release = await user.DeleteAsync($"reservations/{OwnReleasedId}");
            Assert.Equal(System.Net.HttpStatusCode.NoContent, release.StatusCode);
        }
        UserEmail = $"{Guid.NewGuid():N}@example.test";
        using var register = await Server.Client.PostAsJsonAsync("auth/register", new { email = UserEmail, password = "corpus password" });
        Assert.Equal(System.Net.HttpStatusCode.Created, register.StatusCode);
    }

    private async Task<Guid> HoldAsync(string token)
    {
        using var client = Server.NewClient(token);
        using var response = await client.PostAsJsonAsync("reservations/hold", new { eventId = EventId, quantity = 1 });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ReservationResponse>())!.Id;
    }

    /// <summary>A token the server itself signed, for a user id of our choosing.</summary>
    public string IssuedFor(Guid userId, string role) => Server.Tokens.Issue(userId, role).AccessToken;

    public Task DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// Hostile and broken requests across every endpoint: each must get its exact 4xx problem and leave the
/// database as it was. Counted in docs/benchmarks.md's reliability section.
/// </summary>
public abstract class BadInputCorpusTests(CorpusFixture fixture, ITestOutputHelper output) : HostTests(fixture.Server, output)
{
    public sealed class Server(CorpusFixture.OnServer fixture, ITestOutputHelper output)
        : BadInputCorpusTests(fixture, output), IClassFixture<CorpusFixture.OnServer>;

    public sealed class Functions(CorpusFixture.OnFunctions fixture, ITestOutputHelper output)
        : BadInputCorpusTests(fixture, output), IClassFixture<CorpusFixture.OnFunctions>;

    public enum Auth
    {
        None, User, Guest, Admin, Expired, AlgNone, WrongKey, WrongAudience, WrongIssuer, Garbage, Hs512, NotYetValid,
        UnknownRole, SubjectNotAGuid, BasicScheme, EmptyBearer, Oversized, VanishedUser,
    }

    /// <param name="Code">The problem code; null only where Kestrel itself refuses the request before the app runs.</param>
    /// <param name="IdempotencyKey">A raw Idempotency-Key header value to send, if any.</param>
    public sealed record Case(string Name, string Method, string Path, string? ContentType, string? Body, Auth Auth, int Status, string? Code,
        string? IdempotencyKey = null)
    {
        public override string ToString() => Name;
    }

    private const string Json = "application/json";
    private const string Form = "application/x-www-form-urlencoded";
    private const string Hold = "reservations/hold";
    private const string E = "{event}";
    private const string Mine = "{mine}";
    private const string MineConfirmed = "{mineConfirmed}";
    private const string MineReleased = "{mineReleased}";
    private const string Others = "{others}";
    private const string TwoPow63 = "9223372036854775808";
    private static readonly string Megabyte = new('a', 1 << 20);
    private static readonly string Nested = new string('[', 100) + new string(']', 100);

    public static TheoryData<Case> Corpus()
    {
        var data = new TheoryData<Case>();
        void Add(string name, string method, string path, string? type, string? body, Auth auth, int status, string? code, string? key = null) =>
            data.Add(new Case(name, method, path, type, body, auth, status, code, key));
        var hold = $$"""{"eventId":"{{E}}","quantity":1}""";

        // Holds: malformed JSON, wrong types, numbers, server-owned fields.
        Add("hold truncated json", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold not json", "POST", Hold, Json, "eventId=1&quantity=1", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold empty body", "POST", Hold, Json, "", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold json array", "POST", Hold, Json, "[1,2]", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold json array of the right object", "POST", Hold, Json, $"[{hold}]", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold json null", "POST", Hold, Json, "null", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold json string", "POST", Hold, Json, "\"hold\"", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity zero", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":0}""", Auth.User, 400, ProblemCodes.InvalidQuantity);
        Add("hold quantity negative", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":-3}""", Auth.User, 400, ProblemCodes.InvalidQuantity);
        Add("hold quantity int max", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":2147483647}""", Auth.User, 400, ProblemCodes.InvalidQuantity);
        Add("hold quantity int min", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":-2147483648}""", Auth.User, 400, ProblemCodes.InvalidQuantity);
        Add("hold quantity 2^63", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":{{TwoPow63}}}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity -2^63-1", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":-9223372036854775809}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity 1e400", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1e400}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity 1e0", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1e0}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity fraction", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":0.5}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity NaN", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":NaN}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity string", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":"1"}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity bool", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":true}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity object", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":{"n":1} }""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity array", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":[1]}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity null", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":null}""", Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("hold quantity missing", "POST", Hold, Json, $$"""{"eventId":"{{E}}"}""", Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("hold empty object", "POST", Hold, Json, "{}", Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("hold event missing", "POST", Hold, Json, """{"quantity":1}""", Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("hold event null", "POST", Hold, Json, """{"eventId":null,"quantity":1}""", Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("hold event number", "POST", Hold, Json, """{"eventId":123,"quantity":1}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold event sql injection", "POST", Hold, Json, """{"eventId":"' or 1=1 --","quantity":1}""", Auth.User, 404, ProblemCodes.EventNotFound);
        Add("hold event path traversal", "POST", Hold, Json, """{"eventId":"../../etc/passwd","quantity":1}""", Auth.User, 404, ProblemCodes.EventNotFound);
        Add("hold event NUL character", "POST", Hold, Json, """{"eventId":"a\u0000","quantity":1}""", Auth.User, 404, ProblemCodes.EventNotFound);
        Add("hold event lone surrogate", "POST", Hold, Json, """{"eventId":"\ud800","quantity":1}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold event unknown", "POST", Hold, Json, $$"""{"eventId":"{{Guid.Empty}}","quantity":1}""", Auth.User, 404, ProblemCodes.EventNotFound);
        Add("hold event 1 MB string", "POST", Hold, Json, $$"""{"eventId":"{{Megabyte}}","quantity":1}""", Auth.User, 413, ProblemCodes.BodyTooLarge);
        Add("hold event 10 KB string", "POST", Hold, Json, $$"""{"eventId":"{{new string('9', 10_000)}}","quantity":1}""", Auth.User, 404, ProblemCodes.EventNotFound);
        Add("hold status field", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"status":"CONFIRMED"}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold userId field", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"userId":"{{Guid.NewGuid()}}"}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold expiresAt field", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"expiresAt":"2099-01-01T00:00:00Z"}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold id field", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"id":"{{Guid.NewGuid()}}"}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold role field", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"role":"admin"}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold duplicate property", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"quantity":50}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold duplicate event", "POST", Hold, Json, $$"""{"eventId":"{{Guid.Empty}}","eventId":"{{E}}","quantity":1}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold PascalCase names", "POST", Hold, Json, $$"""{"EventId":"{{E}}","Quantity":1}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold deeply nested", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"x":""" + new string('[', 100) + "}", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold nested in a wrapper", "POST", Hold, Json, $$"""{"hold":{{hold}}}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold trailing garbage", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1} x""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold two documents", "POST", Hold, Json, hold + hold, Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold trailing comma", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold single quotes", "POST", Hold, Json, $$"""{'eventId':'{{E}}','quantity':1}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold comment", "POST", Hold, Json, $$"""{"eventId":"{{E}}", /* c */ "quantity":1}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold byte order mark", "POST", Hold, Json, "\uFEFF" + hold, Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold text/plain", "POST", Hold, "text/plain", hold, Auth.User, 415, ProblemCodes.UnsupportedMediaType);
        Add("hold form", "POST", Hold, Form, $"eventId={E}&quantity=1", Auth.User, 415, ProblemCodes.UnsupportedMediaType);
        Add("hold multipart", "POST", Hold, "multipart/form-data; boundary=b", $"--b\r\nContent-Disposition: form-data; name=\"quantity\"\r\n\r\n1\r\n--b--", Auth.User, 415, ProblemCodes.UnsupportedMediaType);
        Add("hold xml", "POST", Hold, "application/xml", "<hold/>", Auth.User, 415, ProblemCodes.UnsupportedMediaType);
        Add("hold no content type", "POST", Hold, null, hold, Auth.User, 415, ProblemCodes.UnsupportedMediaType);
        Add("hold over the per-user limit", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":6}""", Auth.User, 409, ProblemCodes.LimitExceeded);
        // More seats than the event has: the per-user limit (5) is checked first.
        Add("hold more than the event has", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":50}""", Auth.Admin, 409, ProblemCodes.LimitExceeded);
        Add("hold quantity 101", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":101}""", Auth.Admin, 400, ProblemCodes.InvalidQuantity);
        Add("hold bad idempotency key", "POST", Hold, Json, hold, Auth.User, 400, ProblemCodes.InvalidRequest, "two words");
        Add("hold idempotency key of 256 characters", "POST", Hold, Json, hold, Auth.User, 400, ProblemCodes.InvalidRequest, new string('k', 256));
        Add("hold empty idempotency key", "POST", Hold, Json, hold, Auth.User, 400, ProblemCodes.InvalidRequest, "");
        Add("hold by GET", "GET", Hold, null, null, Auth.User, 404, ProblemCodes.NotFound);

        // Tokens: absent, malformed, forged, expired, or valid for some other service.
        Add("hold no token", "POST", Hold, Json, hold, Auth.None, 401, ProblemCodes.Unauthorized);
        Add("hold expired token", "POST", Hold, Json, hold, Auth.Expired, 401, ProblemCodes.Unauthorized);
        Add("hold alg none token", "POST", Hold, Json, hold, Auth.AlgNone, 401, ProblemCodes.Unauthorized);
        Add("hold wrong key token", "POST", Hold, Json, hold, Auth.WrongKey, 401, ProblemCodes.Unauthorized);
        Add("hold wrong audience token", "POST", Hold, Json, hold, Auth.WrongAudience, 401, ProblemCodes.Unauthorized);
        Add("hold wrong issuer token", "POST", Hold, Json, hold, Auth.WrongIssuer, 401, ProblemCodes.Unauthorized);
        Add("hold garbage token", "POST", Hold, Json, hold, Auth.Garbage, 401, ProblemCodes.Unauthorized);
        Add("hold HS512 token", "POST", Hold, Json, hold, Auth.Hs512, 401, ProblemCodes.Unauthorized);
        Add("hold not-yet-valid token", "POST", Hold, Json, hold, Auth.NotYetValid, 401, ProblemCodes.Unauthorized);
        Add("hold token with an unknown role", "POST", Hold, Json, hold, Auth.UnknownRole, 401, ProblemCodes.Unauthorized);
        Add("hold token whose subject is not a guid", "POST", Hold, Json, hold, Auth.SubjectNotAGuid, 401, ProblemCodes.Unauthorized);
        Add("hold basic credentials", "POST", Hold, Json, hold, Auth.BasicScheme, 401, ProblemCodes.Unauthorized);
        Add("hold empty bearer", "POST", Hold, Json, hold, Auth.EmptyBearer, 401, ProblemCodes.Unauthorized);
        Add("hold 5000-character token", "POST", Hold, Json, hold, Auth.Oversized, 401, ProblemCodes.Unauthorized);
        Add("list reservations alg none", "GET", "reservations", null, null, Auth.AlgNone, 401, ProblemCodes.Unauthorized);
        Add("list reservations no token", "GET", "reservations", null, null, Auth.None, 401, ProblemCodes.Unauthorized);
        Add("confirm expired token", "POST", $"reservations/{Mine}/confirm", null, null, Auth.Expired, 401, ProblemCodes.Unauthorized);
        Add("confirm no token", "POST", $"reservations/{Mine}/confirm", null, null, Auth.None, 401, ProblemCodes.Unauthorized);
        Add("release no token", "DELETE", $"reservations/{Mine}", null, null, Auth.None, 401, ProblemCodes.Unauthorized);
        Add("release wrong issuer token", "DELETE", $"reservations/{Mine}", null, null, Auth.WrongIssuer, 401, ProblemCodes.Unauthorized);
        Add("read reservation wrong audience token", "GET", $"reservations/{Mine}", null, null, Auth.WrongAudience, 401, ProblemCodes.Unauthorized);
        Add("cancel wrong key token", "POST", $"reservations/{MineConfirmed}/cancel", null, null, Auth.WrongKey, 401, ProblemCodes.Unauthorized);
        Add("cancel alg none admin claim", "POST", $"reservations/{MineConfirmed}/cancel", null, null, Auth.AlgNone, 401, ProblemCodes.Unauthorized);

        // Others' reservations, terminal states and malformed ids.
        Add("confirm another user's", "POST", $"reservations/{Others}/confirm", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("release another user's", "DELETE", $"reservations/{Others}", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("read another user's", "GET", $"reservations/{Others}", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("guest confirms another's", "POST", $"reservations/{Others}/confirm", null, null, Auth.Guest, 404, ProblemCodes.NotFound);
        Add("guest releases another's", "DELETE", $"reservations/{Mine}", null, null, Auth.Guest, 404, ProblemCodes.NotFound);
        Add("admin confirms another's hold", "POST", $"reservations/{Others}/confirm", null, null, Auth.Admin, 404, ProblemCodes.NotFound);
        Add("confirm a released reservation", "POST", $"reservations/{MineReleased}/confirm", null, null, Auth.User, 409, ProblemCodes.WrongState);
        Add("release a confirmed reservation", "DELETE", $"reservations/{MineConfirmed}", null, null, Auth.User, 409, ProblemCodes.WrongState);
        Add("cancel a released reservation", "POST", $"reservations/{MineReleased}/cancel", null, null, Auth.Admin, 409, ProblemCodes.WrongState);
        Add("confirm sql injection id", "POST", $"reservations/{Uri.EscapeDataString("1' or '1'='1")}/confirm", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("release sql injection id", "DELETE", $"reservations/{Uri.EscapeDataString("' or 1=1 --")}", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("read sql injection id", "GET", $"reservations/{Uri.EscapeDataString("x'; drop table reservations; --")}", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("confirm unknown id", "POST", $"reservations/{Guid.NewGuid()}/confirm", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("release encoded traversal id", "DELETE", "reservations/..%2F..%2Fevents", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("read encoded traversal id", "GET", "reservations/..%2F..%2F..%2Fetc%2Fpasswd", null, null, Auth.User, 404, ProblemCodes.NotFound);
        // A raw NUL anywhere in the path is refused by Kestrel with a bare 400 before the app runs: no problem body.
        Add("read NUL id", "GET", "reservations/%00", null, null, Auth.User, 400, null);
        Add("confirm NUL id", "POST", "reservations/%00/confirm", null, null, Auth.User, 400, null);
        Add("read percent-encoded percent id", "GET", "reservations/%2500", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("read very long id", "GET", $"reservations/{new string('9', 2000)}", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("release very long id", "DELETE", $"reservations/{new string('a', 6000)}", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("confirm guid with trailing junk", "POST", $"reservations/{Mine}x/confirm", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("confirm bad idempotency key", "POST", $"reservations/{Mine}/confirm", null, null, Auth.User, 400, ProblemCodes.InvalidRequest, "k\tey");
        Add("cancel as user", "POST", $"reservations/{MineConfirmed}/cancel", null, null, Auth.User, 403, ProblemCodes.Forbidden);
        Add("cancel as guest", "POST", $"reservations/{Others}/cancel", null, null, Auth.Guest, 403, ProblemCodes.Forbidden);
        Add("cancel a hold as admin", "POST", $"reservations/{Mine}/cancel", null, null, Auth.Admin, 409, ProblemCodes.WrongState);
        Add("cancel malformed id", "POST", "reservations/not-a-guid/cancel", null, null, Auth.Admin, 404, ProblemCodes.NotFound);
        Add("cancel unknown id", "POST", $"reservations/{Guid.NewGuid()}/cancel", null, null, Auth.Admin, 404, ProblemCodes.NotFound);
        Add("confirm by GET", "GET", $"reservations/{Mine}/confirm", null, null, Auth.User, 405, ProblemCodes.MethodNotAllowed);
        Add("reservation by PUT", "PUT", $"reservations/{Mine}", Json, """{"status":"CONFIRMED"}""", Auth.User, 405, ProblemCodes.MethodNotAllowed);
        Add("reservation by PATCH", "PATCH", $"reservations/{Mine}", Json, """{"status":"CONFIRMED"}""", Auth.Admin, 405, ProblemCodes.MethodNotAllowed);
        Add("reservations bad limit", "GET", "reservations?limit=-1", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations zero limit", "GET", "reservations?limit=0", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations huge limit", "GET", "reservations?limit=99999999999", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations limit 1e400", "GET", "reservations?limit=1e400", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations limit 101", "GET", "reservations?limit=101", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations bad cursor", "GET", "reservations?cursor=%27%3B%20drop%20table%20reservations", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations cursor of 22 non-base64 characters", "GET", $"reservations?cursor={new string('*', 22)}", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations cursor NUL", "GET", "reservations?cursor=%00", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations two limits", "GET", "reservations?limit=1&limit=2", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations two cursors", "GET", "reservations?cursor=AAAAAAAAAAAAAAAAAAAAAA&cursor=AAAAAAAAAAAAAAAAAAAAAA", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);

        // Events: create.
        const string newEvent = """{"name":"x","capacity":1}""";
        Add("create event as guest", "POST", "events", Json, newEvent, Auth.Guest, 403, ProblemCodes.Forbidden);
        Add("create event as user", "POST", "events", Json, newEvent, Auth.User, 403, ProblemCodes.Forbidden);
        Add("create event no token", "POST", "events", Json, newEvent, Auth.None, 401, ProblemCodes.Unauthorized);
        Add("create event wrong audience", "POST", "events", Json, newEvent, Auth.WrongAudience, 401, ProblemCodes.Unauthorized);
        Add("create event alg none admin claim", "POST", "events", Json, newEvent, Auth.AlgNone, 401, ProblemCodes.Unauthorized);
        Add("create event with counters", "POST", "events", Json, """{"name":"x","capacity":10,"available":1000}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event with held", "POST", "events", Json, """{"name":"x","capacity":10,"held":5}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event with id", "POST", "events", Json, $$"""{"id":"{{Guid.NewGuid()}}","name":"x","capacity":10}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event capacity string", "POST", "events", Json, """{"name":"x","capacity":"10"}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event capacity zero", "POST", "events", Json, """{"name":"x","capacity":0}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event capacity negative", "POST", "events", Json, """{"name":"x","capacity":-10}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event capacity over the maximum", "POST", "events", Json, """{"name":"x","capacity":10000001}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event capacity 2^63", "POST", "events", Json, $$"""{"name":"x","capacity":{{TwoPow63}}}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event capacity 1e400", "POST", "events", Json, """{"name":"x","capacity":1e400}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event capacity fraction", "POST", "events", Json, """{"name":"x","capacity":1.5}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event capacity null", "POST", "events", Json, """{"name":"x","capacity":null}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event name null", "POST", "events", Json, """{"name":null,"capacity":1}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event name number", "POST", "events", Json, """{"name":5,"capacity":1}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event name too long", "POST", "events", Json, $$"""{"name":"{{new string('n', 201)}}","capacity":1}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event name 1 MB", "POST", "events", Json, $$"""{"name":"{{Megabyte}}","capacity":1}""", Auth.Admin, 413, ProblemCodes.BodyTooLarge);
        Add("create event name whitespace", "POST", "events", Json, """{"name":"   ","capacity":1}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event name lone surrogate", "POST", "events", Json, """{"name":"a\ud800b","capacity":1}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event duplicate name", "POST", "events", Json, """{"name":"x","name":"y","capacity":1}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event bad date", "POST", "events", Json, """{"name":"x","capacity":1,"salesOpensAt":"yesterday"}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event date before year 1 in UTC", "POST", "events", Json, """{"name":"x","capacity":1,"salesOpensAt":"0001-01-01T00:00:00+14:00"}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event date without an offset", "POST", "events", Json, """{"name":"x","capacity":1,"salesOpensAt":"2030-01-01T00:00:00"}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event date only", "POST", "events", Json, """{"name":"x","capacity":1,"salesOpensAt":"2030-01-01"}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event window inverted", "POST", "events", Json, """{"name":"x","capacity":1,"salesOpensAt":"2031-01-01T00:00:00Z","salesClosesAt":"2030-01-01T00:00:00Z"}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event hold seconds huge", "POST", "events", Json, """{"name":"x","capacity":1,"holdSeconds":86400}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event hold seconds 29", "POST", "events", Json, """{"name":"x","capacity":1,"holdSeconds":29}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event max tickets zero", "POST", "events", Json, """{"name":"x","capacity":1,"maxTicketsPerUser":0}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event truncated", "POST", "events", Json, """{"name":"x","capa""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event empty body", "POST", "events", Json, "", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event json array", "POST", "events", Json, $"[{newEvent}]", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event deeply nested", "POST", "events", Json, $$"""{"name":"x","capacity":1,"x":{{Nested}}}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event form", "POST", "events", Form, "name=x&capacity=1", Auth.Admin, 415, ProblemCodes.UnsupportedMediaType);

        // Events: read.
        Add("get event injection", "GET", $"events/{Uri.EscapeDataString("1 union select * from users")}", null, null, Auth.None, 404, ProblemCodes.EventNotFound);
        Add("get event encoded traversal", "GET", "events/..%2F..%2Fetc%2Fpasswd", null, null, Auth.None, 404, ProblemCodes.EventNotFound);
        Add("get event very long id", "GET", $"events/{new string('f', 4000)}", null, null, Auth.None, 404, ProblemCodes.EventNotFound);
        Add("get event unknown", "GET", $"events/{Guid.NewGuid()}", null, null, Auth.None, 404, ProblemCodes.EventNotFound);
        Add("get event NUL id", "GET", "events/%00", null, null, Auth.None, 400, null);
        Add("events limit zero", "GET", "events?limit=0", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("events limit text", "GET", "events?limit=ten", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("events limit 1e400", "GET", "events?limit=1e400", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("events limit 2^63", "GET", $"events?limit={TwoPow63}", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("events limit with a sign", "GET", "events?limit=%2B5", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("events limit NUL", "GET", "events?limit=%00", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("events cursor garbage", "GET", "events?cursor=AAAA", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("events cursor injection", "GET", $"events?cursor={Uri.EscapeDataString("' or 1=1 --")}", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("events cursor 5000 characters", "GET", $"events?cursor={new string('A', 5000)}", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("event by DELETE", "DELETE", $"events/{E}", null, null, Auth.Admin, 405, ProblemCodes.MethodNotAllowed);
        Add("event by PUT", "PUT", $"events/{E}", Json, newEvent, Auth.Admin, 405, ProblemCodes.MethodNotAllowed);

        // Events: change.
        Add("patch event as user", "PATCH", $"events/{E}", Json, """{"capacity":5}""", Auth.User, 403, ProblemCodes.Forbidden);
        Add("patch event as guest", "PATCH", $"events/{E}", Json, """{"capacity":5}""", Auth.Guest, 403, ProblemCodes.Forbidden);
        Add("patch event no token", "PATCH", $"events/{E}", Json, """{"capacity":5}""", Auth.None, 401, ProblemCodes.Unauthorized);
        Add("patch event expired admin token", "PATCH", $"events/{E}", Json, """{"capacity":5}""", Auth.Expired, 401, ProblemCodes.Unauthorized);
        Add("patch event held counter", "PATCH", $"events/{E}", Json, """{"held":0}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event available counter", "PATCH", $"events/{E}", Json, """{"available":1000}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event id", "PATCH", $"events/{E}", Json, $$"""{"id":"{{Guid.NewGuid()}}"}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event capacity below committed", "PATCH", $"events/{E}", Json, """{"capacity":1}""", Auth.Admin, 409, ProblemCodes.CapacityBelowCommitted);
        Add("patch event capacity null", "PATCH", $"events/{E}", Json, """{"capacity":null}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event capacity negative", "PATCH", $"events/{E}", Json, """{"capacity":-1}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event capacity string", "PATCH", $"events/{E}", Json, """{"capacity":"50"}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event capacity 2^63", "PATCH", $"events/{E}", Json, $$"""{"capacity":{{TwoPow63}}}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event capacity 1e400", "PATCH", $"events/{E}", Json, """{"capacity":1e400}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event capacity fraction", "PATCH", $"events/{E}", Json, """{"capacity":30.5}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event duplicate capacity", "PATCH", $"events/{E}", Json, """{"capacity":50,"capacity":60}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("patch event name number", "PATCH", $"events/{E}", Json, """{"name":5}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event name empty", "PATCH", $"events/{E}", Json, """{"name":""}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event name too long", "PATCH", $"events/{E}", Json, $$"""{"name":"{{new string('n', 201)}}"}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event name 1 MB", "PATCH", $"events/{E}", Json, $$"""{"name":"{{Megabyte}}"}""", Auth.Admin, 413, ProblemCodes.BodyTooLarge);
        Add("patch event hold seconds zero", "PATCH", $"events/{E}", Json, """{"holdSeconds":0}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event bad date", "PATCH", $"events/{E}", Json, """{"salesOpensAt":"yesterday"}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event array body", "PATCH", $"events/{E}", Json, "[]", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("patch event null body", "PATCH", $"events/{E}", Json, "null", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("patch event empty body", "PATCH", $"events/{E}", Json, "", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("patch event truncated", "PATCH", $"events/{E}", Json, """{"capacity":""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("patch event deeply nested", "PATCH", $"events/{E}", Json, $$"""{"name":{{Nested}}}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("patch event text/plain", "PATCH", $"events/{E}", "text/plain", """{"capacity":50}""", Auth.Admin, 415, ProblemCodes.UnsupportedMediaType);
        Add("patch event date without an offset", "PATCH", $"events/{E}", Json, """{"salesClosesAt":"2030-01-01T00:00:00"}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event date only", "PATCH", $"events/{E}", Json, """{"salesClosesAt":"2030-01-01"}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event window inverted", "PATCH", $"events/{E}", Json, """{"salesOpensAt":"2031-01-01T00:00:00Z","salesClosesAt":"2030-01-01T00:00:00Z"}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch unknown event", "PATCH", $"events/{Guid.NewGuid()}", Json, """{"capacity":5}""", Auth.Admin, 404, ProblemCodes.EventNotFound);
        Add("patch event injection id", "PATCH", $"events/{Uri.EscapeDataString("' or 1=1 --")}", Json, """{"capacity":5}""", Auth.Admin, 404, ProblemCodes.EventNotFound);

        // Auth endpoints: register.
        Add("register role field", "POST", "auth/register", Json, """{"email":"r@example.test","password":"long enough","role":"admin"}""", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("register id field", "POST", "auth/register", Json, $$"""{"id":"{{Guid.NewGuid()}}","email":"r@example.test","password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("register email taken", "POST", "auth/register", Json, """{"email":"{user}","password":"long enough"}""", Auth.None, 409, ProblemCodes.EmailTaken);
        Add("register email null", "POST", "auth/register", Json, """{"email":null,"password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("register email number", "POST", "auth/register", Json, """{"email":5,"password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("register email of 255 characters", "POST", "auth/register", Json, $$"""{"email":"{{new string('e', 243)}}@example.test","password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("register email with a space", "POST", "auth/register", Json, """{"email":"a b@example.test","password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("register duplicate email", "POST", "auth/register", Json, """{"email":"d1@example.test","password":"long enough","email":"d2@example.test"}""", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("register 1 MB password", "POST", "auth/register", Json, $$"""{"email":"p@example.test","password":"{{Megabyte}}"}""", Auth.None, 413, ProblemCodes.BodyTooLarge);
        Add("register long password", "POST", "auth/register", Json, $$"""{"email":"p@example.test","password":"{{new string('p', 129)}}"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        // Look-alike addresses and common passwords (issue 16).
        Add("register fullwidth look-alike of a registered email", "POST", "auth/register", Json, """{"email":"{userLookAlike}","password":"long enough"}""", Auth.None, 409, ProblemCodes.EmailTaken);
        Add("register email with a leading zero-width space", "POST", "auth/register", Json, """{"email":"\u200Bzw@example.test","password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("register email with a right-to-left override", "POST", "auth/register", Json, """{"email":"rtl\u202E@example.test","password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("register password 12345678", "POST", "auth/register", Json, """{"email":"weak1@example.test","password":"12345678"}""", Auth.None, 400, ProblemCodes.WeakPassword);
        Add("register password 'password'", "POST", "auth/register", Json, """{"email":"weak2@example.test","password":"password"}""", Auth.None, 400, ProblemCodes.WeakPassword);
        Add("register password of eight spaces", "POST", "auth/register", Json, """{"email":"weak3@example.test","password":"        "}""", Auth.None, 400, ProblemCodes.WeakPassword);
        Add("register password equal to the email", "POST", "auth/register", Json, """{"email":"weak4@example.test","password":"weak4@example.test"}""", Auth.None, 400, ProblemCodes.WeakPassword);
        Add("register password of seven characters", "POST", "auth/register", Json, """{"email":"weak5@example.test","password":"seven.."}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("register short password", "POST", "auth/register", Json, """{"email":"p@example.test","password":"seven.."}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("register two at signs", "POST", "auth/register", Json, """{"email":"a@b@c","password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("register empty body", "POST", "auth/register", Json, "", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("register json array", "POST", "auth/register", Json, """[{"email":"a@example.test","password":"long enough"}]""", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("register truncated", "POST", "auth/register", Json, """{"email":"a@example.test","pass""", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("register deeply nested", "POST", "auth/register", Json, $$"""{"email":{{Nested}},"password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("register text/plain", "POST", "auth/register", "text/plain", """{"email":"a@example.test","password":"long enough"}""", Auth.None, 415, ProblemCodes.UnsupportedMediaType);
        Add("register form", "POST", "auth/register", Form, "email=a%40example.test&password=long+enough", Auth.None, 415, ProblemCodes.UnsupportedMediaType);
        Add("register by GET", "GET", "auth/register", null, null, Auth.None, 405, ProblemCodes.MethodNotAllowed);

        // Auth endpoints: token, as JSON and as an OAuth2 form. At most five failed sign-ins per email here:
        // the sixth would be locked out (429) by design.
        Add("token wrong password", "POST", "auth/token", Json, """{"email":"{user}","password":"not it at all"}""", Auth.None, 401, ProblemCodes.InvalidCredentials);
        Add("token sql injection email", "POST", "auth/token", Json, """{"email":"' or 1=1 --","password":"x"}""", Auth.None, 401, ProblemCodes.InvalidCredentials);
        Add("token sql injection password", "POST", "auth/token", Json, """{"email":"{user}","password":"' or '1'='1"}""", Auth.None, 401, ProblemCodes.InvalidCredentials);
        Add("token role field", "POST", "auth/token", Json, """{"email":"{user}","password":"corpus password","role":"admin"}""", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("token email number", "POST", "auth/token", Json, """{"email":1,"password":"x"}""", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("token email null", "POST", "auth/token", Json, """{"email":null,"password":"x"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token email whitespace", "POST", "auth/token", Json, """{"email":"   ","password":"x"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token email with a zero-width space", "POST", "auth/token", Json, """{"email":"{user}\u200B","password":"corpus password"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token email of 300 characters", "POST", "auth/token", Json, $$"""{"email":"{{new string('e', 300)}}","password":"x"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token password of 129 characters", "POST", "auth/token", Json, $$"""{"email":"{user}","password":"{{new string('p', 129)}}"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token empty body", "POST", "auth/token", Json, "", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("token json null", "POST", "auth/token", Json, "null", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("token 1 MB email", "POST", "auth/token", Json, $$"""{"email":"{{Megabyte}}","password":"x"}""", Auth.None, 413, ProblemCodes.BodyTooLarge);
        Add("token form missing password", "POST", "auth/token", Form, "username=a%40b.c", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token form empty", "POST", "auth/token", Form, "", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token form two usernames", "POST", "auth/token", Form, "username=a%40b.c&username=b%40c.d&password=long+enough", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token form wrong password", "POST", "auth/token", Form, "username={user}&password=wrong+password", Auth.None, 401, ProblemCodes.InvalidCredentials);
        Add("token form injection username", "POST", "auth/token", Form, $"username={Uri.EscapeDataString("admin'--")}&password=x", Auth.None, 401, ProblemCodes.InvalidCredentials);
        Add("token form bad percent-encoding", "POST", "auth/token", Form, "username=%ZZ&password=%", Auth.None, 401, ProblemCodes.InvalidCredentials);
        Add("token form 1 MB", "POST", "auth/token", Form, $"username=a&password={Megabyte}", Auth.None, 413, ProblemCodes.BodyTooLarge);
        Add("token xml", "POST", "auth/token", "application/xml", "<a/>", Auth.None, 415, ProblemCodes.UnsupportedMediaType);
        Add("token no content type", "POST", "auth/token", null, """{"email":"{user}","password":"corpus password"}""", Auth.None, 415, ProblemCodes.UnsupportedMediaType);
        Add("token by GET", "GET", "auth/token", null, null, Auth.None, 405, ProblemCodes.MethodNotAllowed);

        // Auth endpoints: guest. A POST makes a guest (201, a legitimate change), so only what must not.
        Add("guest by GET", "GET", "auth/guest", null, null, Auth.None, 405, ProblemCodes.MethodNotAllowed);
        Add("guest by PUT", "PUT", "auth/guest", Json, """{"role":"admin"}""", Auth.None, 405, ProblemCodes.MethodNotAllowed);
        Add("guest by DELETE", "DELETE", "auth/guest", null, null, Auth.Guest, 405, ProblemCodes.MethodNotAllowed);
        Add("guest sub-path", "POST", "auth/guest/admin", null, null, Auth.None, 404, ProblemCodes.NotFound);

        // Health.
        Add("health by POST", "POST", "health", Json, "{}", Auth.None, 405, ProblemCodes.MethodNotAllowed);
        Add("health by DELETE", "DELETE", "health", null, null, Auth.Admin, 405, ProblemCodes.MethodNotAllowed);
        Add("liveness by PUT", "PUT", "health/live", null, null, Auth.None, 405, ProblemCodes.MethodNotAllowed);
        Add("health encoded traversal", "GET", "health/%2e%2e/%2e%2e/etc/passwd", null, null, Auth.None, 404, ProblemCodes.NotFound);
        Add("health sub-path", "GET", "health/database", null, null, Auth.None, 404, ProblemCodes.NotFound);
        return data;
    }

    /// <summary>
    /// Inputs that once got a 500: NUL characters and lone surrogates reaching PostgreSQL or JsonElement.GetString,
    /// multipart and over-limit forms on the token endpoint, a valid token of a user that no longer exists.
    /// </summary>
    public static TheoryData<Case> FormerServerErrors()
    {
        var data = new TheoryData<Case>();
        void Add(string name, string method, string path, string? type, string? body, Auth auth, int status, string code) =>
            data.Add(new Case(name, method, path, type, body, auth, status, code));

        // PostgreSQL text cannot hold U+0000: the insert or lookup fails with 22021 and surfaces as a 500.
        Add("token email with NUL", "POST", "auth/token", Json, """{"email":"a\u0000@b.c","password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token form username with NUL", "POST", "auth/token", Form, "username=a%00%40b.c&password=long+enough", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("register email with NUL", "POST", "auth/register", Json, """{"email":"a\u0000@b.c","password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("create event name with NUL", "POST", "events", Json, """{"name":"a\u0000b","capacity":1}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event name with NUL", "PATCH", $"events/{E}", Json, """{"name":"a\u0000b"}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        // JsonElement.GetString throws InvalidOperationException on an unpaired surrogate escape.
        Add("patch event name lone surrogate", "PATCH", $"events/{E}", Json, """{"name":"a\ud800b"}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        // HasFormContentType is true for multipart too, and ReadFormAsync throws InvalidDataException on a bad one.
        Add("token multipart", "POST", "auth/token", "multipart/form-data; boundary=b", "garbage", Auth.None, 415, ProblemCodes.UnsupportedMediaType);
        // Past FormOptions' limits (1024 values, 2048-character keys) ReadFormAsync throws InvalidDataException.
        Add("token form of 1100 fields", "POST", "auth/token", Form, string.Join('&', Enumerable.Range(0, 1100).Select(i => $"f{i}=")), Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token form key of 3000 characters", "POST", "auth/token", Form, new string('k', 3000) + "=v&password=x", Auth.None, 400, ProblemCodes.InvalidRequest);
        // A validly signed token whose user no longer exists: the hold's insert breaks the foreign key (23503).
        Add("hold by a user that no longer exists", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1}""", Auth.VanishedUser, 401, ProblemCodes.Unauthorized);
        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public Task Hostile_request_gets_its_4xx_problem_and_changes_nothing(Case c) => RunAsync(c);

    [Theory]
    [MemberData(nameof(FormerServerErrors))]
    public Task Hostile_request_that_once_was_a_500_gets_its_4xx_problem_and_changes_nothing(Case c) => RunAsync(c);

    [Fact]
    public void The_corpus_has_at_least_sixty_cases_and_unique_names()
    {
        var names = ((IEnumerable<object[]>)Corpus()).Concat(FormerServerErrors()).Select(row => ((Case)row[0]).Name).ToList();
        Assert.True(names.Count >= 60, $"{names.Count} cases");
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
    }

    private async Task RunAsync(Case c)
    {
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), Fill(c.Path));
        if (c.Body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Fill(c.Body)));
            if (c.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
            }
        }
        if (Authorization(c.Auth) is { } authorization)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        if (c.IdempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyHeader.Name, c.IdempotencyKey);
        }

        var before = await SnapshotAsync();
        using var response = await Host.Client.SendAsync(request);
        Assert.True((int)response.StatusCode < 500, $"{c.Name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        if (Host is FunctionsHost && c.Code is not null && !ApiRoutes.All.Any(r => r.Method == c.Method && Matches(r.Template, request.RequestUri!)))
        {
            // A platform difference (README): the Functions host answers a route or method no function declares
            // with its own bare 404, before any worker code runs.
            Assert.Equal((404, ""), ((int)response.StatusCode, await response.Content.ReadAsStringAsync()));
        }
        else if (c.Code is null)
        {
            Assert.Equal(c.Status, (int)response.StatusCode);
        }
        else
        {
            await ProblemAssert.IsProblemAsync(response, c.Status, c.Code);
        }
        Assert.Equal(before, await SnapshotAsync());
    }

    /// <summary>Whether a route template matches the request's path as the server decodes it (all but %2F).</summary>
    private bool Matches(string template, Uri relative)
    {
        var raw = new Uri(Host.BaseAddress, relative).AbsolutePath;
        var decoded = Uri.UnescapeDataString(raw.Replace("%2F", "%252F", StringComparison.OrdinalIgnoreCase));
        var matcher = new TemplateMatcher(TemplateParser.Parse($"{ApiRoutes.Prefix}/{template}"), new RouteValueDictionary());
        return matcher.TryMatch(new PathString(decoded), new RouteValueDictionary());
    }

    private string Fill(string text) => text
        .Replace("{event}", fixture.EventId.ToString(), StringComparison.Ordinal)
        .Replace("{mineConfirmed}", fixture.OwnConfirmedId.ToString(), StringComparison.Ordinal)
        .Replace("{mineReleased}", fixture.OwnReleasedId.ToString(), StringComparison.Ordinal)
        .Replace("{mine}", fixture.OwnReservationId.ToString(), StringComparison.Ordinal)
        .Replace("{others}", fixture.OthersReservationId.ToString(), StringComparison.Ordinal)
        .Replace("{userLookAlike}", fixture.UserEmail.Replace("example", "\uFF45xample", StringComparison.Ordinal), StringComparison.Ordinal)
        .Replace("{user}", fixture.UserEmail, StringComparison.Ordinal);

    /// <summary>The Authorization header value for a kind of caller; forged ones all claim the admin role.</summary>
    private string? Authorization(Auth auth)
    {
        var now = DateTime.UtcNow;
        string Sign(DateTime expires, string key = ApiHost.SigningKey, string audience = ApiHost.Audience,
            string issuer = ApiHost.Issuer, string algorithm = SecurityAlgorithms.HmacSha256, object? subject = null,
            string role = Roles.Admin, DateTime? notBefore = null) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = issuer,
                Audience = audience,
                IssuedAt = notBefore ?? expires.AddHours(-2),
                NotBefore = notBefore ?? expires.AddHours(-2),
                Expires = expires,
                Claims = new Dictionary<string, object> { ["sub"] = subject ?? Guid.NewGuid().ToString(), ["role"] = role },
                SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), algorithm),
            });
        var bearer = auth switch
        {
            Auth.None or Auth.BasicScheme or Auth.EmptyBearer => null,
            Auth.User => fixture.UserToken,
            Auth.Guest => fixture.GuestToken,
            Auth.Admin => fixture.AdminToken,
            Auth.Expired => Sign(now.AddMinutes(-10)),
            Auth.WrongKey => Sign(now.AddHours(1), key: "some-other-key-that-is-long-enough-0123456789"),
            Auth.WrongAudience => Sign(now.AddHours(1), audience: "another-api"),
            Auth.WrongIssuer => Sign(now.AddHours(1), issuer: "someone-else"),
            Auth.Hs512 => Sign(now.AddHours(1), algorithm: SecurityAlgorithms.HmacSha512),
            Auth.NotYetValid => Sign(now.AddHours(3), notBefore: now.AddHours(1)),
            Auth.UnknownRole => Sign(now.AddHours(1), role: "superuser"),
            Auth.SubjectNotAGuid => Sign(now.AddHours(1), subject: "1 or 1=1"),
            Auth.AlgNone => $"{Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""")}.{Base64UrlEncoder.Encode($$"""{"sub":"{{Guid.NewGuid()}}","role":"admin","iss":"tickets","aud":"tickets-api","exp":{{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}}}""")}.",
            Auth.Oversized => fixture.AdminToken + new string('A', 5000),
            Auth.VanishedUser => fixture.IssuedFor(Guid.NewGuid(), Roles.User),
            _ => "garbage.garbage.garbage",
        };
        return auth switch
        {
            Auth.None => null,
            Auth.BasicScheme => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:admin")),
            Auth.EmptyBearer => "Bearer ",
            _ => "Bearer " + bearer,
        };
    }

    /// <summary>Everything a request could change: users, reservations, every event's fields and the idempotency records.</summary>
    private async Task<string> SnapshotAsync()
    {
        await using var connection = await fixture.Server.Db.DataSource.OpenConnectionAsync();
        var users = await connection.ExecuteScalarAsync<long>("select count(*) from users");
        var reservations = await connection.QueryAsync<string>("select id::text || status || quantity || user_id::text from reservations order by id");
        var events = await connection.QueryAsync<string>(
            "select id::text || name || capacity || available || held || confirmed || coalesce(max_tickets_per_user, 0) || hold_seconds || coalesce(sales_opens_at::text, '') || coalesce(sales_closes_at::text, '') || updated_at::text from events order by id");
        var keys = await connection.ExecuteScalarAsync<long>("select count(*) from idempotency_keys");
        return $"{users}|{string.Join(',', reservations)}|{string.Join(',', events)}|{keys}";
    }
}
