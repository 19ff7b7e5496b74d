using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Tests;

public sealed class IdempotencyTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static IdempotencyKey<HoldResult> Key(string key, string request = "same") =>
        new(key, IdempotencyHeader.Hash(request), r => Task.FromResult(new StoredResponse(
            r.Outcome == HoldOutcome.Held ? 201 : 409, "application/json", Encoding.UTF8.GetBytes($"{r.Outcome}:{r.Reservation?.Id}"), null)));

    private async Task<int> ReservationCountAsync(Guid eventId)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("select count(*)::int from reservations where event_id = @Id", new { Id = eventId });
    }

    [Fact]
    public async Task A_retried_hold_with_the_same_key_replays_the_first_response_and_holds_once()
    {
        var (user, ev) = (await NewUserAsync(), await NewEventAsync(10));
        var first = await Engine.HoldAsync(new HoldRequest(user, ev.Id, 2, Key("k1")), None);
        var retry = await Engine.HoldAsync(new HoldRequest(user, ev.Id, 2, Key("k1")), None);

        Assert.Equal(HoldOutcome.Held, first.Outcome);
        Assert.Equal(HoldOutcome.Replayed, retry.Outcome);
        Assert.Equal(Encoding.UTF8.GetBytes($"Held:{first.Reservation!.Id}"), retry.Replay!.Body);
        Assert.Equal(1, await ReservationCountAsync(ev.Id));
        Assert.Equal(8, (await ReloadAsync(ev.Id)).Available);
    }

    [Fact]
    public async Task A_key_reused_for_a_different_request_is_refused_and_keys_are_per_user()
    {
        var (user, other, ev) = (await NewUserAsync(), await NewUserAsync(), await NewEventAsync(10));
        await Engine.HoldAsync(new HoldRequest(user, ev.Id, 1, Key("k2", "hold 1")), None);

        var reused = await Engine.HoldAsync(new HoldRequest(user, ev.Id, 3, Key("k2", "hold 3")), None);
        var otherUser = await Engine.HoldAsync(new HoldRequest(other, ev.Id, 3, Key("k2", "hold 3")), None);

        Assert.Equal(HoldOutcome.IdempotencyKeyReused, reused.Outcome);
        Assert.Equal(HoldOutcome.Held, otherUser.Outcome);
        Assert.Equal(6, (await ReloadAsync(ev.Id)).Available);
    }

    [Fact]
    public async Task Many_concurrent_retries_of_one_key_through_the_combiner_make_exactly_one_hold()
    {
        var (user, ev) = (await NewUserAsync(), await NewEventAsync(100));
        var combiner = new HoldCombiner(Engine, new BatchOptions { MaxBatchSize = 8 }, NullLogger<HoldCombiner>.Instance);

        var results = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ =>
            Task.Run(() => combiner.HoldAsync(new HoldRequest(user, ev.Id, 1, Key("retry-storm")), None))));

        var held = Assert.Single(results, r => r.Outcome == HoldOutcome.Held);
        Assert.All(results.Where(r => r.Outcome != HoldOutcome.Held), r =>
        {
            Assert.Equal(HoldOutcome.Replayed, r.Outcome);
            Assert.Equal(Encoding.UTF8.GetBytes($"Held:{held.Reservation!.Id}"), r.Replay!.Body);
        });
        Assert.Equal(1, await ReservationCountAsync(ev.Id));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_retried_confirm_replays_and_old_keys_are_deleted_by_the_cleanup()
    {
        var (user, ev) = (await NewUserAsync(), await NewEventAsync(10));
        var hold = (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 1), None)).Reservation!;
        var key = new IdempotencyKey<ChangeResult>("c1", IdempotencyHeader.Hash("confirm", hold.Id.ToString()),
            r => Task.FromResult(new StoredResponse(200, "application/json", Encoding.UTF8.GetBytes($"{r.Outcome}:{r.Reservation?.ConfirmedAt:O}"), null)));

        var first = await Engine.ConfirmAsync(user, hold.Id, None, key);
        var retry = await Engine.ConfirmAsync(user, hold.Id, None, key);
        Assert.Equal(ChangeOutcome.Changed, first.Outcome);
        Assert.Equal(ChangeOutcome.Replayed, retry.Outcome);
        Assert.Equal(Encoding.UTF8.GetBytes($"Changed:{first.Reservation!.ConfirmedAt:O}"), retry.Replay!.Body);

        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update idempotency_keys set created_at = now() - interval '25 hours' where key = 'c1'");
        }
        Assert.Equal(1, await Engine.DeleteOldIdempotencyKeysAsync(IdempotencyHeader.Retention, None));
        Assert.Equal(0, await Engine.DeleteOldIdempotencyKeysAsync(IdempotencyHeader.Retention, None));
    }
}

public abstract class IdempotencyApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : IdempotencyApiTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : IdempotencyApiTests(host, output), IClassFixture<FunctionsHost>;

    private static HttpRequestMessage Hold(Guid eventId, int quantity, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "reservations/hold") { Content = JsonContent.Create(new { eventId, quantity }) };
        if (key is not null)
        {
            request.Headers.Add(IdempotencyHeader.Name, key);
        }
        return request;
    }

    [Fact]
    public async Task A_non_ascii_key_is_a_400_on_the_server_and_never_reaches_the_functions_worker_and_holds_nothing()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Idem non-ASCII", capacity = 10 });
        // A client that sends the header's UTF-8 bytes as they are (.NET's own client refuses non-ASCII values).
        using var client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 })
        {
            BaseAddress = Host.BaseAddress,
        };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await Host.GuestTokenAsync());
        using var request = Hold(ev.Id, 1, null);
        request.Headers.TryAddWithoutValidation(IdempotencyHeader.Name, "clé-ünïcode");

        using var response = await client.SendAsync(request);

        if (Host is FunctionsHost)
        {
            // A platform difference (README): the host's proxy cannot forward the header, so the function never
            // sees the request; the caller gets a bare 502.
            Assert.Equal((HttpStatusCode.BadGateway, ""), (response.StatusCode, await response.Content.ReadAsStringAsync()));
        }
        else
        {
            await ProblemAssert.IsProblemAsync(response, 400, ProblemCodes.InvalidRequest);
        }
        Assert.Equal(10, (await Host.GetEventAsync(ev.Id)).Available);
    }

    [Fact]
    public async Task A_retried_hold_gets_the_first_response_byte_for_byte_and_a_different_body_gets_422()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Idem", capacity = 10 });
        using var client = Host.NewClient(await Host.GuestTokenAsync());
        var key = Guid.NewGuid().ToString();

        using var first = await client.SendAsync(Hold(ev.Id, 2, key));
        using var retry = await client.SendAsync(Hold(ev.Id, 2, key));
        using var different = await client.SendAsync(Hold(ev.Id, 3, key));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await retry.Content.ReadAsByteArrayAsync());
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal("true", retry.Headers.GetValues(IdempotencyHeader.ReplayedHeader).Single());
        await ProblemAssert.IsProblemAsync(different, 422, ProblemCodes.IdempotencyKeyReused);
        Assert.Equal((8, 2), ((await Host.GetEventAsync(ev.Id)).Available, (await Host.GetEventAsync(ev.Id)).Held));
    }

    [Fact]
    public async Task A_duplicate_sent_while_the_first_is_still_running_gets_409_and_the_first_completes()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Busy", capacity = 10 });
        using var client = Host.NewClient(await Host.GuestTokenAsync());
        var key = Guid.NewGuid().ToString();
        await using var connection = await Host.Db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("select 1 from events where id = @Id for no key update", new { ev.Id }, transaction);

        var first = client.SendAsync(Hold(ev.Id, 1, key));
        await Task.Delay(300);
        using var duplicate = await client.SendAsync(Hold(ev.Id, 1, key));
        await transaction.RollbackAsync();
        using var firstResponse = await first;

        await ProblemAssert.IsProblemAsync(duplicate, 409, ProblemCodes.IdempotencyKeyInUse);
        Assert.Equal(HttpStatusCode.Created, firstResponse.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a-key-that-is-far-too-long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
    public async Task A_malformed_key_is_a_400(string key)
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Bad key", capacity = 10 });
        using var client = Host.NewClient(await Host.GuestTokenAsync());
        using var request = Hold(ev.Id, 1, null);
        request.Headers.TryAddWithoutValidation(IdempotencyHeader.Name, key);
        using var response = await client.SendAsync(request);
        await ProblemAssert.IsProblemAsync(response, 400, ProblemCodes.InvalidRequest);
        Assert.Equal(10, (await Host.GetEventAsync(ev.Id)).Available);
    }

    [Fact]
    public async Task A_retried_confirm_replays_the_same_body()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Confirm", capacity = 10 });
        using var client = Host.NewClient(await Host.GuestTokenAsync());
        using var hold = await client.SendAsync(Hold(ev.Id, 1, null));
        var reservation = await hold.Content.ReadFromJsonAsync<ReservationResponse>();

        HttpRequestMessage Confirm()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"reservations/{reservation!.Id}/confirm");
            request.Headers.Add(IdempotencyHeader.Name, "confirm-1");
            return request;
        }
        using var first = await client.SendAsync(Confirm());
        using var retry = await client.SendAsync(Confirm());
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await retry.Content.ReadAsByteArrayAsync());
    }
}
