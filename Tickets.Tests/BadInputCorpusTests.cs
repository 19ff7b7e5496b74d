using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tickets.Api;

namespace Tickets.Tests;

/// <summary>Shared state for the corpus: an admin, a user, another user's hold, an event.</summary>
public sealed class CorpusFixture : IAsyncLifetime
{
    public ServerFixture Server { get; } = new();
    public string AdminToken { get; private set; } = "";
    public string UserToken { get; private set; } = "";
    public string GuestToken { get; private set; } = "";
    public Guid EventId { get; private set; }
    public Guid OthersReservationId { get; private set; }
    public Guid OwnReservationId { get; private set; }
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
        UserEmail = $"{Guid.NewGuid():N}@example.test";
        (await Server.Client.PostAsJsonAsync("auth/register", new { email = UserEmail, password = "corpus password" })).Dispose();
    }

    private async Task<Guid> HoldAsync(string token)
    {
        using var client = Server.NewClient(token);
        using var response = await client.PostAsJsonAsync("reservations/hold", new { eventId = EventId, quantity = 1 });
        return (await response.Content.ReadFromJsonAsync<ReservationResponse>())!.Id;
    }

    public Task DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// Hostile and broken requests across every endpoint (97 cases): each must get its exact 4xx problem and leave
/// the database as it was. Counted in docs/benchmarks.md's reliability section.
/// </summary>
public sealed class BadInputCorpusTests(CorpusFixture fixture) : IClassFixture<CorpusFixture>
{
    public enum Auth { None, User, Guest, Admin, Expired, AlgNone, WrongKey, WrongAudience, Garbage }

    public sealed record Case(string Name, string Method, string Path, string? ContentType, string? Body, Auth Auth, int Status, string Code)
    {
        public override string ToString() => Name;
    }

    private const string Json = "application/json";
    private const string Hold = "reservations/hold";

    public static TheoryData<Case> Corpus()
    {
        var data = new TheoryData<Case>();
        void Add(string name, string method, string path, string? type, string? body, Auth auth, int status, string code) =>
            data.Add(new Case(name, method, path, type, body, auth, status, code));
        const string E = "{event}";
        const string Mine = "{mine}";
        const string Others = "{others}";

        // Holds: malformed JSON, wrong types, numbers, server-owned fields.
        Add("hold truncated json", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold not json", "POST", Hold, Json, "eventId=1&quantity=1", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold empty body", "POST", Hold, Json, "", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold json array", "POST", Hold, Json, "[1,2]", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold json null", "POST", Hold, Json, "null", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold json string", "POST", Hold, Json, "\"hold\"", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity zero", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":0}""", Auth.User, 400, ProblemCodes.InvalidQuantity);
        Add("hold quantity negative", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":-3}""", Auth.User, 400, ProblemCodes.InvalidQuantity);
        Add("hold quantity int max", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":2147483647}""", Auth.User, 400, ProblemCodes.InvalidQuantity);
        Add("hold quantity 2^63", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":9223372036854775808}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity 1e400", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1e400}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity fraction", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":0.5}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity string", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":"1"}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity bool", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":true}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity object", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":{"n":1} }""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold quantity null", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":null}""", Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("hold quantity missing", "POST", Hold, Json, $$"""{"eventId":"{{E}}"}""", Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("hold event missing", "POST", Hold, Json, """{"quantity":1}""", Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("hold event number", "POST", Hold, Json, """{"eventId":123,"quantity":1}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold event sql injection", "POST", Hold, Json, """{"eventId":"' or 1=1 --","quantity":1}""", Auth.User, 404, ProblemCodes.EventNotFound);
        Add("hold event path traversal", "POST", Hold, Json, """{"eventId":"../../etc/passwd","quantity":1}""", Auth.User, 404, ProblemCodes.EventNotFound);
        Add("hold event unknown", "POST", Hold, Json, $$"""{"eventId":"{{Guid.Empty}}","quantity":1}""", Auth.User, 404, ProblemCodes.EventNotFound);
        Add("hold event 1 MB string", "POST", Hold, Json, $$"""{"eventId":"{{new string('a', 1 << 20)}}","quantity":1}""", Auth.User, 413, ProblemCodes.BodyTooLarge);
        Add("hold status field", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"status":"CONFIRMED"}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold userId field", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"userId":"{{Guid.NewGuid()}}"}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold expiresAt field", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"expiresAt":"2099-01-01T00:00:00Z"}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold id field", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"id":"{{Guid.NewGuid()}}"}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold duplicate property", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"quantity":50}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold PascalCase names", "POST", Hold, Json, $$"""{"EventId":"{{E}}","Quantity":1}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold deeply nested", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1,"x":""" + new string('[', 100) + "}", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold trailing garbage", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1} x""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold comment", "POST", Hold, Json, $$"""{"eventId":"{{E}}", /* c */ "quantity":1}""", Auth.User, 400, ProblemCodes.InvalidJson);
        Add("hold text/plain", "POST", Hold, "text/plain", $$"""{"eventId":"{{E}}","quantity":1}""", Auth.User, 415, ProblemCodes.UnsupportedMediaType);
        Add("hold form", "POST", Hold, "application/x-www-form-urlencoded", $"eventId={E}&quantity=1", Auth.User, 415, ProblemCodes.UnsupportedMediaType);
        Add("hold xml", "POST", Hold, "application/xml", "<hold/>", Auth.User, 415, ProblemCodes.UnsupportedMediaType);
        Add("hold no content type", "POST", Hold, null, $$"""{"eventId":"{{E}}","quantity":1}""", Auth.User, 415, ProblemCodes.UnsupportedMediaType);
        Add("hold over the per-user limit", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":6}""", Auth.User, 409, ProblemCodes.LimitExceeded);
        Add("hold quantity 101", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":101}""", Auth.Admin, 400, ProblemCodes.InvalidQuantity);

        // Tokens.
        Add("hold no token", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1}""", Auth.None, 401, ProblemCodes.Unauthorized);
        Add("hold expired token", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1}""", Auth.Expired, 401, ProblemCodes.Unauthorized);
        Add("hold alg none token", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1}""", Auth.AlgNone, 401, ProblemCodes.Unauthorized);
        Add("hold wrong key token", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1}""", Auth.WrongKey, 401, ProblemCodes.Unauthorized);
        Add("hold wrong audience token", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1}""", Auth.WrongAudience, 401, ProblemCodes.Unauthorized);
        Add("hold garbage token", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1}""", Auth.Garbage, 401, ProblemCodes.Unauthorized);
        Add("list reservations alg none", "GET", "reservations", null, null, Auth.AlgNone, 401, ProblemCodes.Unauthorized);
        Add("confirm expired token", "POST", $"reservations/{Mine}/confirm", null, null, Auth.Expired, 401, ProblemCodes.Unauthorized);

        // Others' reservations and malformed ids.
        Add("confirm another user's", "POST", $"reservations/{Others}/confirm", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("release another user's", "DELETE", $"reservations/{Others}", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("read another user's", "GET", $"reservations/{Others}", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("guest confirms another's", "POST", $"reservations/{Others}/confirm", null, null, Auth.Guest, 404, ProblemCodes.NotFound);
        Add("confirm sql injection id", "POST", $"reservations/{Uri.EscapeDataString("1' or '1'='1")}/confirm", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("confirm unknown id", "POST", $"reservations/{Guid.NewGuid()}/confirm", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("release encoded traversal id", "DELETE", "reservations/..%2F..%2Fevents", null, null, Auth.User, 404, ProblemCodes.NotFound);
        // (A raw NUL in the path is refused by Kestrel itself with a bare 400 before the app runs.)
        Add("read percent-encoded percent id", "GET", "reservations/%2500", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("read very long id", "GET", $"reservations/{new string('9', 2000)}", null, null, Auth.User, 404, ProblemCodes.NotFound);
        Add("cancel as user", "POST", $"reservations/{Mine}/cancel", null, null, Auth.User, 403, ProblemCodes.Forbidden);
        Add("cancel as guest", "POST", $"reservations/{Others}/cancel", null, null, Auth.Guest, 403, ProblemCodes.Forbidden);
        Add("cancel a hold as admin", "POST", $"reservations/{Mine}/cancel", null, null, Auth.Admin, 409, ProblemCodes.WrongState);
        Add("cancel malformed id", "POST", "reservations/not-a-guid/cancel", null, null, Auth.Admin, 404, ProblemCodes.NotFound);
        Add("reservations bad limit", "GET", "reservations?limit=-1", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations huge limit", "GET", "reservations?limit=99999999999", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations bad cursor", "GET", "reservations?cursor=%27%3B%20drop%20table%20reservations", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("reservations two limits", "GET", "reservations?limit=1&limit=2", null, null, Auth.User, 400, ProblemCodes.InvalidRequest);
        Add("hold bad idempotency key", "POST", Hold, Json, $$"""{"eventId":"{{E}}","quantity":1}""", Auth.User, 400, ProblemCodes.InvalidRequest);

        // Events.
        Add("create event as guest", "POST", "events", Json, """{"name":"x","capacity":1}""", Auth.Guest, 403, ProblemCodes.Forbidden);
        Add("create event as user", "POST", "events", Json, """{"name":"x","capacity":1}""", Auth.User, 403, ProblemCodes.Forbidden);
        Add("create event no token", "POST", "events", Json, """{"name":"x","capacity":1}""", Auth.None, 401, ProblemCodes.Unauthorized);
        Add("create event with counters", "POST", "events", Json, """{"name":"x","capacity":10,"available":1000}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event capacity string", "POST", "events", Json, """{"name":"x","capacity":"10"}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event capacity zero", "POST", "events", Json, """{"name":"x","capacity":0}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event name too long", "POST", "events", Json, $$"""{"name":"{{new string('n', 201)}}","capacity":1}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event name whitespace", "POST", "events", Json, """{"name":"   ","capacity":1}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event bad date", "POST", "events", Json, """{"name":"x","capacity":1,"salesOpensAt":"yesterday"}""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("create event hold seconds huge", "POST", "events", Json, """{"name":"x","capacity":1,"holdSeconds":86400}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("create event truncated", "POST", "events", Json, """{"name":"x","capa""", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("patch event as user", "PATCH", $"events/{E}", Json, """{"capacity":5}""", Auth.User, 403, ProblemCodes.Forbidden);
        Add("patch event held counter", "PATCH", $"events/{E}", Json, """{"held":0}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event capacity below committed", "PATCH", $"events/{E}", Json, """{"capacity":1}""", Auth.Admin, 409, ProblemCodes.CapacityBelowCommitted);
        Add("patch event capacity null", "PATCH", $"events/{E}", Json, """{"capacity":null}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event name number", "PATCH", $"events/{E}", Json, """{"name":5}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch event array body", "PATCH", $"events/{E}", Json, "[]", Auth.Admin, 400, ProblemCodes.InvalidJson);
        Add("patch event window inverted", "PATCH", $"events/{E}", Json, """{"salesOpensAt":"2031-01-01T00:00:00Z","salesClosesAt":"2030-01-01T00:00:00Z"}""", Auth.Admin, 400, ProblemCodes.InvalidRequest);
        Add("patch unknown event", "PATCH", $"events/{Guid.NewGuid()}", Json, """{"capacity":5}""", Auth.Admin, 404, ProblemCodes.EventNotFound);
        Add("get event injection", "GET", $"events/{Uri.EscapeDataString("1 union select * from users")}", null, null, Auth.None, 404, ProblemCodes.EventNotFound);
        Add("events limit zero", "GET", "events?limit=0", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("events limit text", "GET", "events?limit=ten", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("events cursor garbage", "GET", "events?cursor=AAAA", null, null, Auth.None, 400, ProblemCodes.InvalidRequest);

        // Auth endpoints.
        Add("register role field", "POST", "auth/register", Json, """{"email":"r@example.test","password":"long enough","role":"admin"}""", Auth.None, 400, ProblemCodes.InvalidJson);
        Add("register email taken", "POST", "auth/register", Json, """{"email":"{user}","password":"long enough"}""", Auth.None, 409, ProblemCodes.EmailTaken);
        Add("register email null", "POST", "auth/register", Json, """{"email":null,"password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("register 1 MB password", "POST", "auth/register", Json, $$"""{"email":"p@example.test","password":"{{new string('p', 1 << 20)}}"}""", Auth.None, 413, ProblemCodes.BodyTooLarge);
        Add("register long password", "POST", "auth/register", Json, $$"""{"email":"p@example.test","password":"{{new string('p', 129)}}"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("register two at signs", "POST", "auth/register", Json, """{"email":"a@b@c","password":"long enough"}""", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token wrong password", "POST", "auth/token", Json, """{"email":"{user}","password":"not it at all"}""", Auth.None, 401, ProblemCodes.InvalidCredentials);
        Add("token sql injection email", "POST", "auth/token", Json, """{"email":"' or 1=1 --","password":"x"}""", Auth.None, 401, ProblemCodes.InvalidCredentials);
        Add("token form missing password", "POST", "auth/token", "application/x-www-form-urlencoded", "username=a%40b.c", Auth.None, 400, ProblemCodes.InvalidRequest);
        Add("token xml", "POST", "auth/token", "application/xml", "<a/>", Auth.None, 415, ProblemCodes.UnsupportedMediaType);
        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task Hostile_request_gets_its_4xx_problem_and_changes_nothing(Case c)
    {
        var server = fixture.Server;
        var path = c.Path.Replace("{event}", fixture.EventId.ToString(), StringComparison.Ordinal)
            .Replace("{mine}", fixture.OwnReservationId.ToString(), StringComparison.Ordinal)
            .Replace("{others}", fixture.OthersReservationId.ToString(), StringComparison.Ordinal);
        var body = c.Body?.Replace("{event}", fixture.EventId.ToString(), StringComparison.Ordinal)
            .Replace("{user}", fixture.UserEmail, StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (c.ContentType is not null)
            {
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(c.ContentType);
            }
        }
        if (Token(c.Auth) is { } token)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }
        if (c.Name == "hold bad idempotency key")
        {
            request.Headers.TryAddWithoutValidation(IdempotencyHeader.Name, "two words");
        }

        var before = await SnapshotAsync();
        using var response = await server.Client.SendAsync(request);
        await ProblemAssert.IsProblemAsync(response, c.Status, c.Code);
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public void The_corpus_has_at_least_sixty_cases()
    {
        Assert.True(Corpus().Count >= 60, $"{Corpus().Count} cases");
    }

    private string? Token(Auth auth)
    {
        var now = DateTime.UtcNow;
        string Sign(string key, string audience, DateTime expires) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = ServerFixture.Issuer,
            Audience = audience,
            IssuedAt = expires.AddHours(-2),
            NotBefore = expires.AddHours(-2),
            Expires = expires,
            Claims = new Dictionary<string, object> { ["sub"] = Guid.NewGuid().ToString(), ["role"] = "admin" },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        });
        return auth switch
        {
            Auth.None => null,
            Auth.User => fixture.UserToken,
            Auth.Guest => fixture.GuestToken,
            Auth.Admin => fixture.AdminToken,
            Auth.Expired => Sign(ServerFixture.SigningKey, ServerFixture.Audience, now.AddMinutes(-10)),
            Auth.WrongKey => Sign("some-other-key-that-is-long-enough-0123456789", ServerFixture.Audience, now.AddHours(1)),
            Auth.WrongAudience => Sign(ServerFixture.SigningKey, "another-api", now.AddHours(1)),
            Auth.AlgNone => $"{Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""")}.{Base64UrlEncoder.Encode($$"""{"sub":"{{Guid.NewGuid()}}","role":"admin","iss":"tickets","aud":"tickets-api","exp":{{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}}}""")}.",
            _ => "garbage.garbage.garbage",
        };
    }

    /// <summary>Everything a request could change: users, reservations and every event's fields.</summary>
    private async Task<string> SnapshotAsync()
    {
        await using var connection = await fixture.Server.Db.DataSource.OpenConnectionAsync();
        var users = await connection.ExecuteScalarAsync<long>("select count(*) from users");
        var reservations = await connection.QueryAsync<string>("select id::text || status || quantity from reservations order by id");
        var events = await connection.QueryAsync<string>(
            "select id::text || name || capacity || available || held || confirmed || coalesce(max_tickets_per_user, 0) || hold_seconds || coalesce(sales_opens_at::text, '') || coalesce(sales_closes_at::text, '') from events order by id");
        var keys = await connection.ExecuteScalarAsync<long>("select count(*) from idempotency_keys");
        return $"{users}|{string.Join(',', reservations)}|{string.Join(',', events)}|{keys}";
    }
}
