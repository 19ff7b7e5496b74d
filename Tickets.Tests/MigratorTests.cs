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
    public void Migrations_are_numbered_without_gaps()
    {
        Assert.Equal(Enumerable.Range(1, Migrator.All.Count), Migrator.All.Select(m => m.Version));
    }
}
