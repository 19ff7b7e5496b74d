// The requests the benchmark sends, with a guest token per connection and the ids it needs for confirms.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Npgsql;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Bench;

internal delegate Task<int> BenchOperation(HttpClient client, int worker, CancellationToken cancellationToken);

internal sealed class BenchClient
{
    private readonly Uri _base;
    private readonly NpgsqlDataSource _dataSource;
    private readonly AuthenticationHeaderValue[] _tokens;
    private readonly string _adminToken;
    private readonly ConcurrentQueue<Guid>[] _held;
    private readonly bool _rotate;
    private int _next;

    private BenchClient(Uri baseAddress, NpgsqlDataSource dataSource, AuthenticationHeaderValue[] tokens, string adminToken, bool rotate = false)
    {
        _rotate = rotate;
        _base = baseAddress;
        _dataSource = dataSource;
        _tokens = tokens;
        _adminToken = adminToken;
        _held = tokens.Select(_ => new ConcurrentQueue<Guid>()).ToArray();
    }

    public static async Task<BenchClient> CreateAsync(Uri baseAddress, NpgsqlDataSource dataSource, int workers)
    {
        using var client = new HttpClient { BaseAddress = baseAddress };
        var tokens = new AuthenticationHeaderValue[workers];
        for (var i = 0; i < workers; i++)
        {
            using var guest = await client.PostAsync("auth/guest", null);
            guest.EnsureSuccessStatusCode();
            tokens[i] = new AuthenticationHeaderValue("Bearer", (await guest.Content.ReadFromJsonAsync<IssuedToken>())!.AccessToken);
        }
        var email = $"bench-admin-{Guid.NewGuid():N}@example.test";
        await new UserStore(new Database(dataSource, Microsoft.Extensions.Logging.Abstractions.NullLogger<Database>.Instance))
            .UpsertAdminAsync(email, PasswordHasher.Hash("benchmark admin"), CancellationToken.None);
        using var token = await client.PostAsJsonAsync("auth/token", new { email, password = "benchmark admin" });
        token.EnsureSuccessStatusCode();
        return new BenchClient(baseAddress, dataSource, tokens, (await token.Content.ReadFromJsonAsync<IssuedToken>())!.AccessToken);
    }

    /// <summary>
    /// The same server and admin, with requests that take the next of <paramref name="tokens"/> each (many buyers,
    /// as wrk's script does) instead of one buyer per connection. Holds only; confirms need one buyer per connection.
    /// </summary>
    public BenchClient Rotating(IEnumerable<string> tokens) =>
        new(_base, _dataSource, tokens.Select(t => new AuthenticationHeaderValue("Bearer", t)).ToArray(), _adminToken, rotate: true);

    public async Task<Guid> CreateEventAsync(string name, int capacity, int? maxTicketsPerUser = null)
    {
        using var client = new HttpClient { BaseAddress = _base };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _adminToken);
        using var response = await client.PostAsJsonAsync("events", new { name, capacity, holdSeconds = Limits.MaxHoldSeconds, maxTicketsPerUser });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<EventResponse>())!.Id;
    }

    /// <summary>A webhook subscription made through the API, as an operator would; returns its id.</summary>
    public async Task<Guid> CreateWebhookAsync(Uri url, string[] events)
    {
        using var client = new HttpClient { BaseAddress = _base };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _adminToken);
        using var response = await client.PostAsJsonAsync("webhooks", new { url = url.AbsoluteUri, events });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<WebhookResponse>())!.Id;
    }

    public async Task SetWebhookEnabledAsync(Guid id, bool enabled)
    {
        using var client = new HttpClient { BaseAddress = _base };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _adminToken);
        using var response = await client.PatchAsJsonAsync($"webhooks/{id}", new { enabled });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>An event sold as <paramref name="types"/> ticket types, each with the whole capacity as its quota.</summary>
    public async Task<(Guid EventId, Guid[] TypeIds)> CreateTypedEventAsync(string name, int capacity, int types)
    {
        using var client = new HttpClient { BaseAddress = _base };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _adminToken);
        var ticketTypes = Enumerable.Range(0, types).Select(i => new { name = $"Type {i}", price = 1000 * (i + 1), capacity }).ToArray();
        using var response = await client.PostAsJsonAsync("events", new { name, capacity, holdSeconds = Limits.MaxHoldSeconds, ticketTypes });
        response.EnsureSuccessStatusCode();
        var created = (await response.Content.ReadFromJsonAsync<EventResponse>())!;
        return (created.Id, created.TicketTypes.Select(t => t.Id).ToArray());
    }

    /// <summary>
    /// Holds of one seat on each of 1 to 3 types, every combination of the types in turn, so that the tickets
    /// per hold are exactly <see cref="TicketsPerLinesHold"/> on average.
    /// </summary>
    public static BenchOperation HoldLines((Guid EventId, Guid[] TypeIds) ev, BenchClient owner)
    {
        var combinations = Enumerable.Range(1, (1 << ev.TypeIds.Length) - 1)
            .Select(mask => ev.TypeIds.Where((_, i) => (mask & (1 << i)) != 0).ToArray()).ToArray();
        var bodies = combinations.Select(types => Encoding.UTF8.GetBytes(
            $$"""{"eventId":"{{ev.EventId}}","items":[{{string.Join(",", types.Select(t => $$"""{"ticketTypeId":"{{t}}","quantity":1}"""))}}]}""")).ToArray();
        owner.TicketsPerLinesHold = combinations.Average(c => c.Length);
        var next = 0;
        return (client, worker, ct) => owner.HoldAsync(client, bodies[(uint)Interlocked.Increment(ref next) % bodies.Length], worker, ct);
    }

    /// <summary>Tickets per request of the <see cref="HoldLines"/> phase.</summary>
    public double TicketsPerLinesHold { get; private set; } = double.NaN;

    public Task<int> Live(HttpClient client, int worker, CancellationToken cancellationToken) =>
        SendAsync(client, new HttpRequestMessage(HttpMethod.Get, "health/live"), worker, cancellationToken);

    public BenchOperation Hold(Guid eventId)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"eventId":"{{eventId}}","quantity":1}""");
        return (client, worker, ct) => HoldAsync(client, body, worker, ct);
    }

    /// <summary>Holds as a careful client sends them: each with an <c>Idempotency-Key</c> of its own.</summary>
    public BenchOperation HoldWithKey(Guid eventId)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"eventId":"{{eventId}}","quantity":1}""");
        return (client, worker, ct) => HoldAsync(client, body, worker, ct, idempotencyKey: Guid.NewGuid().ToString());
    }

    public BenchOperation HoldSpread(Guid[] events)
    {
        var bodies = events.Select(id => Encoding.UTF8.GetBytes($$"""{"eventId":"{{id}}","quantity":1}""")).ToArray();
        var next = 0;
        return (client, worker, ct) => HoldAsync(client, bodies[(uint)Interlocked.Increment(ref next) % bodies.Length], worker, ct);
    }

    /// <summary>Confirms this connection's own earlier holds; -1 when it has none left.</summary>
    public Task<int> Confirm(HttpClient client, int worker, CancellationToken cancellationToken) =>
        _held[worker].TryDequeue(out var id)
            ? SendAsync(client, new HttpRequestMessage(HttpMethod.Post, $"reservations/{id}/confirm"), worker, cancellationToken)
            : Task.FromResult(-1);

    /// <summary>Inserts expired holds of a fresh event directly (counters kept exact), for the sweeper phase.</summary>
    public async Task<int> CreateExpiredHoldsAsync(int count)
    {
        var eventId = await CreateEventAsync("Sweep", count);
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var user = await connection.ExecuteScalarAsync<Guid>("select id from users where role = 'guest' limit 1", transaction: transaction);
        await connection.ExecuteAsync("""
            with inserted as (
                insert into reservations (id, event_id, user_id, quantity, status, created_at, expires_at)
                select gen_random_uuid(), @EventId, @User, 1, 'HOLD', now() - interval '1 hour', now() - interval '1 second'
                from generate_series(1, @Count)
                returning id
            )
            insert into reservation_lines (reservation_id, ticket_type_id, quantity, unit_price)
            select id, (select id from ticket_types where event_id = @EventId), 1, 0 from inserted;
            update events set available = available - @Count, held = held + @Count where id = @EventId;
            update ticket_types set available = available - @Count, held = held + @Count where event_id = @EventId;
            """, new { EventId = eventId, User = user, Count = count }, transaction);
        await transaction.CommitAsync();
        return count;
    }

    private async Task<int> HoldAsync(HttpClient client, byte[] body, int worker, CancellationToken cancellationToken, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "reservations/hold") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = Token(worker);
        if (idempotencyKey is not null)
        {
            request.Headers.Add(IdempotencyHeader.Name, idempotencyKey);
        }
        using var response = await client.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Created && response.Headers.Location is { } location)
        {
            _held[worker].Enqueue(Guid.Parse(location.OriginalString.AsSpan(location.OriginalString.LastIndexOf('/') + 1)));
        }
        return (int)response.StatusCode;
    }

    private AuthenticationHeaderValue Token(int worker) =>
        _rotate ? _tokens[(uint)Interlocked.Increment(ref _next) % _tokens.Length] : _tokens[worker];

    private async Task<int> SendAsync(HttpClient client, HttpRequestMessage request, int worker, CancellationToken cancellationToken)
    {
        using (request)
        {
            request.Headers.Authorization = Token(worker);
            using var response = await client.SendAsync(request, cancellationToken);
            return (int)response.StatusCode;
        }
    }
}
