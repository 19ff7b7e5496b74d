using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Data;

/// <summary>
/// Applies the numbered <c>Migrations/NNN_name.sql</c> files in order, once each. Everything runs in one
/// transaction under a transaction-scoped advisory lock keyed by the target schema, so two processes migrating at
/// once serialize, and a failed migration leaves nothing half-applied. Transaction-scoped (not session) locks also
/// work through PgBouncer in transaction pooling mode.
/// The same migrator serves the tests, the local server and the deployment pipeline.
/// </summary>
public static partial class Migrator
{
    public sealed record Migration(int Version, string Name, string Sql);

    public static IReadOnlyList<Migration> All { get; } = Load();

    /// <returns>The versions applied by this call (empty when the schema was already current).</returns>
    public static async Task<IReadOnlyList<int>> MigrateAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        const string lockSql = """
            select pg_advisory_xact_lock(hashtext('tickets.migrations:' || current_schema()));
            create table if not exists schema_migrations (
                version    integer     primary key,
                name       text        not null,
                applied_at timestamptz not null default now()
            );
            """;
        await connection.ExecuteAsync(new CommandDefinition(lockSql, transaction: transaction, cancellationToken: cancellationToken));

        const string appliedSql = "select version from schema_migrations";
        var applied = (await connection.QueryAsync<int>(new CommandDefinition(appliedSql, transaction: transaction, cancellationToken: cancellationToken))).ToHashSet();

        var done = new List<int>();
        foreach (var migration in All.Where(m => !applied.Contains(m.Version)))
        {
            logger.LogInformation("Applying migration {Version} {Name}", migration.Version, migration.Name);
            await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: transaction, cancellationToken: cancellationToken));
            const string recordSql = "insert into schema_migrations (version, name) values (@Version, @Name)";
            await connection.ExecuteAsync(new CommandDefinition(recordSql, new { migration.Version, migration.Name }, transaction, cancellationToken: cancellationToken));
            done.Add(migration.Version);
        }
        await transaction.CommitAsync(cancellationToken);
        if (done.Count == 0)
        {
            logger.LogInformation("Schema is current at version {Version}", All[^1].Version);
        }
        return done;
    }

    private static List<Migration> Load()
    {
        var assembly = typeof(Migrator).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = MigrationName().Match(resource);
            if (!match.Success)
            {
                continue;
            }
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new Migration(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups[2].Value, reader.ReadToEnd()));
        }
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        if (migrations.Select(m => m.Version).Distinct().Count() != migrations.Count)
        {
            throw new InvalidOperationException("Two migrations share a version number.");
        }
        return migrations;
    }

    [GeneratedRegex(@"^Migrations\.(\d+)_([A-Za-z0-9_]+)\.sql$")]
    private static partial Regex MigrationName();
}
