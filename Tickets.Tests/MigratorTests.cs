using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

public sealed class MigratorTests
{
    private static async Task<(NpgsqlDataSource Source, string Schema)> EmptySchemaAsync()
    {
        var server = await PostgresFixture.ServerConnectionString;
        var schema = "m_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = NpgsqlDataSource.Create(server))
        {
            await admin.CreateCommand($"create schema {schema}").ExecuteNonQueryAsync();
        }
        return (NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(server) { SearchPath = schema }.ConnectionString), schema);
    }

    [Fact]
    public async Task Applying_twice_applies_each_migration_once()
    {
        var (source, _) = await EmptySchemaAsync();
        await using var _ = source;

        var first = await Migrator.MigrateAsync(source, NullLogger.Instance, CancellationToken.None);
        var second = await Migrator.MigrateAsync(source, NullLogger.Instance, CancellationToken.None);

        Assert.Equal(Migrator.All.Select(m => m.Version), first);
        Assert.Empty(second);
        await using var connection = await source.OpenConnectionAsync();
        Assert.Equal(Migrator.All.Count, await connection.ExecuteScalarAsync<int>("select count(*) from schema_migrations"));
    }

    [Fact]
    public async Task Concurrent_migrators_serialize_and_apply_each_migration_once()
    {
        var (source, _) = await EmptySchemaAsync();
        await using var _ = source;

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Migrator.MigrateAsync(source, NullLogger.Instance, CancellationToken.None))));

        Assert.Equal(Migrator.All.Select(m => m.Version), runs.SelectMany(r => r).Order());
        await using var connection = await source.OpenConnectionAsync();
        Assert.Equal(Migrator.All.Count, await connection.ExecuteScalarAsync<int>("select count(distinct version) from schema_migrations"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*) from events"));
    }

    [Fact]
    public async Task Existing_look_alike_accounts_keep_their_rows_and_only_the_oldest_keeps_the_address()
    {
        var (source, _) = await EmptySchemaAsync();
        await using var _ = source;
        await Migrator.MigrateAsync(source, NullLogger.Instance, CancellationToken.None, upTo: Migrator.EmailKeysVersion - 1);
        // Registered under the old rule (lower(email) unique): each of these was a separate account.
        (string Email, string Role)[] accounts =
        [
            ("victim@example.test", "user"),
            ("\u200Bvictim@example.test", "admin"), // a leading zero-width space
            ("\uFF56ictim@example.test", "user"), // a fullwidth v
            ("cafe\u0301@example.test", "user"), // decomposed e-acute, first
            ("caf\u00E9@example.test", "user"), // composed e-acute, later
            ("other@example.test", "user"),
        ];
        await using (var connection = await source.OpenConnectionAsync())
        {
            for (var i = 0; i < accounts.Length; i++)
            {
                await connection.ExecuteAsync("""
                    insert into users (id, email, password_hash, role, created_at)
                    values (@Id, @Email, 'hash', @Role, now() - make_interval(mins => @Age))
                    """, new { Id = Guid.CreateVersion7(), accounts[i].Email, accounts[i].Role, Age = accounts.Length - i });
            }
        }

        var applied = await Migrator.MigrateAsync(source, NullLogger.Instance, CancellationToken.None);

        Assert.Contains(Migrator.EmailKeysVersion, applied);
        await using var check = await source.OpenConnectionAsync();
        var rows = (await check.QueryAsync<(string Email, string? Key)>("select email, email_key from users order by created_at")).ToList();
        Assert.Equal(accounts.Length, rows.Count);
        Assert.Equal(
            new string?[] { "victim@example.test", null, null, EmailAddress.Key("caf\u00E9@example.test"), null, "other@example.test" },
            rows.Select(r => r.Key));
        var users = new UserStore(new Database(source, Microsoft.Extensions.Logging.Abstractions.NullLogger<Database>.Instance));
        Assert.Equal("victim@example.test", (await users.FindByEmailAsync("V\u0130CTIM@example.test", CancellationToken.None))!.Email);
        Assert.Null(await users.CreateAsync("\uFF56ictim@example.test", "hash", "user", CancellationToken.None));
    }

    [Fact]
    public async Task Existing_events_get_their_default_type_and_existing_reservations_their_line()
    {
        var (source, _) = await EmptySchemaAsync();
        await using var _ = source;
        await Migrator.MigrateAsync(source, NullLogger.Instance, CancellationToken.None, upTo: Migrator.TicketTypesVersion - 1);
        var (user, sold, empty) = (Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7());
        await using (var connection = await source.OpenConnectionAsync())
        {
            // An event with a hold, a confirmed sale and ended reservations, counters matching; and one with none.
            await connection.ExecuteAsync("""
                insert into users (id, email, email_key, password_hash, role) values (@User, 'old@example.test', 'old@example.test', 'hash', 'user');
                insert into events (id, name, capacity, available, held, confirmed, max_tickets_per_user)
                values (@Sold, 'Old', 20, 13, 3, 4, 10), (@Empty, 'Quiet', 5, 5, 0, 0, null);
                insert into reservations (id, event_id, user_id, quantity, status, created_at, expires_at, confirmed_at, ended_at) values
                    (gen_random_uuid(), @Sold, @User, 3, 'HOLD', now(), now() + interval '5 minutes', null, null),
                    (gen_random_uuid(), @Sold, @User, 4, 'CONFIRMED', now(), now() + interval '5 minutes', now(), null),
                    (gen_random_uuid(), @Sold, @User, 2, 'EXPIRED', now(), now(), null, now());
                """, new { User = user, Sold = sold, Empty = empty });
        }

        var applied = await Migrator.MigrateAsync(source, NullLogger.Instance, CancellationToken.None);

        Assert.Contains(Migrator.TicketTypesVersion, applied);
        var database = new Database(source, NullLogger<Database>.Instance);
        var events = new EventStore(database);
        var old = (await events.GetAsync(sold, CancellationToken.None))!;
        var type = Assert.Single(old.TicketTypes);
        Assert.Equal(("EUR", Limits.DefaultTicketTypeName, 0, 20, 13, 3, 4), (old.Currency, type.Name, type.Price, type.Capacity, type.Available, type.Held, type.Confirmed));
        Assert.Equal(5, Assert.Single((await events.GetAsync(empty, CancellationToken.None))!.TicketTypes).Available);
        await using (var check = await source.OpenConnectionAsync())
        {
            var lines = (await check.QueryAsync<(Guid Type, int Quantity, int UnitPrice, int Reserved)>("""
                select l.ticket_type_id, l.quantity, l.unit_price, r.quantity
                from reservations r join reservation_lines l on l.reservation_id = r.id
                """)).ToList();
            Assert.Equal(3, lines.Count);
            Assert.All(lines, l => Assert.Equal((type.Id, l.Reserved, 0), (l.Type, l.Quantity, l.UnitPrice)));
        }
        Assert.Empty(await Invariant.BrokenEventsAsync(source, CancellationToken.None));
        // Old clients keep working: a hold without types, on the migrated event.
        var engine = new ReservationEngine(database, NullLogger<ReservationEngine>.Instance);
        var held = await engine.HoldAsync(new HoldRequest(user, sold, 3), CancellationToken.None);
        Assert.Equal(HoldOutcome.Held, held.Outcome);
        Assert.Equal([new ReservationLine(type.Id, 3, 0)], held.Reservation!.Lines);
        Assert.Empty(await Invariant.BrokenEventsAsync(source, CancellationToken.None));
    }

    [Fact]
    public void Migrations_are_numbered_without_gaps()
    {
        Assert.Equal(Enumerable.Range(1, Migrator.All.Count), Migrator.All.Select(m => m.Version));
    }
}
