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
    public void Migrations_are_numbered_without_gaps()
    {
        Assert.Equal(Enumerable.Range(1, Migrator.All.Count), Migrator.All.Select(m => m.Version));
    }
}
