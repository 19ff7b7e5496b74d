using System.Net;
using System.Net.Http.Json;
using CsCheck;
using Dapper;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// Random sequences of hold / confirm / release / cancel / expire / capacity change through the HTTP API,
/// checked step by step against an in-memory model of the reservations and the counters of the event and of its
/// two ticket types (quotas of 8 each under a venue of 12 at first): holds of one or both types.
/// </summary>
public abstract class ModelBasedApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : ModelBasedApiTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : ModelBasedApiTests(host, output), IClassFixture<FunctionsHost>;

    public enum Kind { Hold, Confirm, Release, Cancel, Expire, Capacity }

    public sealed record Step(Kind Kind, int User, int Target, int Amount)
    {
        public override string ToString() => $"{Kind}(u{User},#{Target},{Amount})";
    }

    private sealed class ModelReservation(Guid id, int owner, int[] seats)
    {
        public Guid Id { get; } = id;
        public int Owner { get; } = owner;
        /// <summary>Seats per ticket type (index 0 and 1).</summary>
        public int[] Seats { get; } = seats;
        public int Quantity => Seats.Sum();
        public string Status { get; set; } = ReservationStatus.Hold;
    }

    private static readonly Gen<Step[]> Sequences = Gen.Select(
            Gen.Int[0, 99], Gen.Int[0, 2], Gen.Int[0, 50], Gen.Int[1, 6],
            (k, user, target, amount) => new Step(k switch
            {
                < 35 => Kind.Hold,
                < 60 => Kind.Confirm,
                < 75 => Kind.Release,
                < 85 => Kind.Cancel,
                < 93 => Kind.Expire,
                _ => Kind.Capacity,
            }, user, target, amount))
        .Array[15, 30];

    [Fact]
    public async Task Random_sequences_through_the_api_always_match_the_model_and_keep_the_invariant()
    {
        var admin = Host.NewClient(await Host.AdminTokenAsync());
        var tokens = Host.Tokens;
        var engine = Host.Engine;
        var users = new UserStore(Host.Db.Database);
        var steps = 0;

        await Check.SampleAsync(Sequences, async sequence =>
        {
            var clients = new List<HttpClient>();
            for (var i = 0; i < 3; i++)
            {
                var user = await users.CreateAsync(null, null, Roles.Guest, CancellationToken.None);
                clients.Add(Host.NewClient(tokens.Issue(user!.Id, Roles.Guest).AccessToken));
            }
            var capacity = 12;
            const int quota = 8;
            var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new
            {
                name = "Model",
                capacity,
                ticketTypes = new[] { new { name = "A", price = 100, capacity = quota }, new { name = "B", price = 250, capacity = quota } },
            });
            var model = new List<ModelReservation>();
            int Sum(string status) => model.Where(r => r.Status == status).Sum(r => r.Quantity);
            int TypeSum(int type, string status) => model.Where(r => r.Status == status).Sum(r => r.Seats[type]);

            foreach (var step in sequence)
            {
                steps++;
                var target = model.Count == 0 ? null : model[step.Target % model.Count];
                switch (step.Kind)
                {
                    case Kind.Hold:
                    {
                        // One type, the other, or both (the second line smaller).
                        int[] seats = (step.Target % 3) switch { 0 => [step.Amount, 0], 1 => [0, step.Amount], _ => [step.Amount, step.Target % 2 + 1] };
                        var items = seats.Select((q, t) => (q, t)).Where(x => x.q > 0)
                            .Select(x => new { ticketTypeId = ev.TicketTypes[x.t].Id, quantity = x.q }).ToArray();
                        using var response = await clients[step.User].PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, items });
                        var typeShort = Enumerable.Range(0, 2).FirstOrDefault(t => seats[t] > quota - TypeSum(t, ReservationStatus.Hold) - TypeSum(t, ReservationStatus.Confirmed), -1);
                        var fits = typeShort < 0 && seats.Sum() <= capacity - Sum(ReservationStatus.Hold) - Sum(ReservationStatus.Confirmed);
                        if (fits)
                        {
                            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                            var held = (await response.Content.ReadFromJsonAsync<ReservationResponse>())!;
                            Assert.Equal(seats[0] * 100 + seats[1] * 250, held.Total);
                            model.Add(new ModelReservation(held.Id, step.User, seats));
                        }
                        else
                        {
                            var problem = await ProblemAssert.IsProblemAsync(response, 409, ProblemCodes.SoldOut);
                            // A short type is named by its line; only a short venue is refused without one.
                            Assert.Equal(typeShort < 0 ? null : ev.TicketTypes[typeShort].Id.ToString(),
                                problem.TryGetProperty("ticketTypeId", out var named) ? named.GetString() : null);
                        }
                        break;
                    }
                    case Kind.Confirm when target is not null:
                    {
                        using var response = await clients[step.User].PostAsync($"reservations/{target.Id}/confirm", null);
                        if (target.Owner != step.User)
                        {
                            await ProblemAssert.IsProblemAsync(response, 404, ProblemCodes.NotFound);
                        }
                        else if (target.Status is ReservationStatus.Hold or ReservationStatus.Confirmed)
                        {
                            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                            target.Status = ReservationStatus.Confirmed;
                        }
                        else if (target.Status == ReservationStatus.Expired)
                        {
                            await ProblemAssert.IsProblemAsync(response, 410, ProblemCodes.HoldExpired);
                        }
                        else
                        {
                            await ProblemAssert.IsProblemAsync(response, 409, ProblemCodes.WrongState);
                        }
                        break;
                    }
                    case Kind.Release when target is not null:
                    {
                        using var response = await clients[step.User].DeleteAsync($"reservations/{target.Id}");
                        if (target.Owner != step.User)
                        {
                            await ProblemAssert.IsProblemAsync(response, 404, ProblemCodes.NotFound);
                        }
                        else if (target.Status is ReservationStatus.Hold or ReservationStatus.Released)
                        {
                            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
                            target.Status = ReservationStatus.Released;
                        }
                        else if (target.Status == ReservationStatus.Expired)
                        {
                            await ProblemAssert.IsProblemAsync(response, 410, ProblemCodes.HoldExpired);
                        }
                        else
                        {
                            await ProblemAssert.IsProblemAsync(response, 409, ProblemCodes.WrongState);
                        }
                        break;
                    }
                    case Kind.Cancel when target is not null:
                    {
                        using var response = await admin.PostAsync($"reservations/{target.Id}/cancel", null);
                        if (target.Status is ReservationStatus.Confirmed or ReservationStatus.Cancelled)
                        {
                            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                            target.Status = ReservationStatus.Cancelled;
                        }
                        else
                        {
                            await ProblemAssert.IsProblemAsync(response, 409, ProblemCodes.WrongState);
                        }
                        break;
                    }
                    case Kind.Expire when target is { Status: ReservationStatus.Hold }:
                    {
                        // The hold's time runs out; the sweeper (called here, as the timer would) ends it.
                        await using (var connection = await Host.Db.DataSource.OpenConnectionAsync())
                        {
                            await connection.ExecuteAsync("update reservations set expires_at = now() - interval '1 second' where id = @Id", new { target.Id });
                        }
                        await engine.ReleaseExpiredHoldsAsync(CancellationToken.None);
                        target.Status = ReservationStatus.Expired;
                        break;
                    }
                    case Kind.Capacity:
                    {
                        var newCapacity = step.Target % 20 + 1;
                        using var response = await admin.PatchAsJsonAsync($"events/{ev.Id}", new { capacity = newCapacity });
                        if (newCapacity >= Sum(ReservationStatus.Hold) + Sum(ReservationStatus.Confirmed))
                        {
                            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                            capacity = newCapacity;
                        }
                        else
                        {
                            await ProblemAssert.IsProblemAsync(response, 409, ProblemCodes.CapacityBelowCommitted);
                        }
                        break;
                    }
                }

                var actual = await Host.GetEventAsync(ev.Id);
                var expected = (capacity, capacity - Sum(ReservationStatus.Hold) - Sum(ReservationStatus.Confirmed),
                    Sum(ReservationStatus.Hold), Sum(ReservationStatus.Confirmed));
                Assert.Equal(expected, (actual.Capacity, actual.Available, actual.Held, actual.Confirmed));
                for (var t = 0; t < 2; t++)
                {
                    var (held, confirmed) = (TypeSum(t, ReservationStatus.Hold), TypeSum(t, ReservationStatus.Confirmed));
                    var type = actual.TicketTypes[t];
                    Assert.Equal((quota, quota - held - confirmed, held, confirmed), (type.Capacity, type.Available, type.Held, type.Confirmed));
                }
            }
            foreach (var reservation in model)
            {
                var stored = await Host.Db.Database.WithConnectionAsync((c, ct) => c.ExecuteScalarAsync<string>(
                    new CommandDefinition("select status from reservations where id = @Id", new { reservation.Id }, cancellationToken: ct)), CancellationToken.None);
                Assert.Equal(reservation.Status, stored);
            }
            clients.ForEach(c => c.Dispose());
        }, iter: 30, threads: 1);

        admin.Dispose();
        Assert.True(steps >= 30 * 15, $"only {steps} steps ran");
    }
}
