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

    /// <summary>The migration after which accounts are compared by <see cref="EmailAddress.Key"/>.</summary>
    public const int EmailKeysVersion = 4;

    /// <summary>The migration that gives every event its ticket types and every reservation its lines.</summary>
    public const int TicketTypesVersion = 5;

    /// <param name="upTo">Apply migrations up to this version only (tests of a migration against older rows).</param>
    /// <returns>The versions applied by this call (empty when the schema was already current).</returns>
    public static async Task<IReadOnlyList<int>> MigrateAsync(
        NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken, int upTo = int.MaxValue)
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
        foreach (var migration in All.Where(m => !applied.Contains(m.Version) && m.Version <= upTo))
        {
            logger.LogInformation("Applying migration {Version} {Name}", migration.Version, migration.Name);
            await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: transaction, cancellationToken: cancellationToken));
            const string recordSql = "insert into schema_migrations (version, name) values (@Version, @Name)";
            await connection.ExecuteAsync(new CommandDefinition(recordSql, new { migration.Version, migration.Name }, transaction, cancellationToken: cancellationToken));
            done.Add(migration.Version);
        }
        if (applied.Concat(done).Contains(EmailKeysVersion))
        {
            await KeyEmailsAsync(connection, transaction, logger, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        if (done.Count == 0)
        {
            logger.LogInformation("Schema is current at version {Version}", All[^1].Version);
        }
        return done;
    }

    /// <summary>
    /// Gives every account with an email and no key its <see cref="EmailAddress.Key"/>, oldest first (the rule is
    /// C#, not SQL: PostgreSQL's lower() depends on the server's locale). An account whose key an older account
    /// already has stays without one: it keeps its row, reservations and tickets but cannot sign in by that
    /// address. Such accounts are logged on every migration until an operator resolves them (README runbook).
    /// </summary>
    private static async Task KeyEmailsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ILogger logger, CancellationToken ct)
    {
        const string pendingSql = """
            select id, email
            from users
            where email is not null and email_key is null
            order by created_at, id
            """;
        var pending = (await connection.QueryAsync<(Guid Id, string Email)>(new CommandDefinition(pendingSql, transaction: transaction, cancellationToken: ct))).AsList();
        if (pending.Count == 0)
        {
            return;
        }
        var keys = pending.Select(p => EmailAddress.Key(p.Email)).ToArray();
        const string takenSql = "select email_key from users where email_key = any(@Keys)";
        var taken = (await connection.QueryAsync<string>(new CommandDefinition(takenSql, new { Keys = keys.Distinct().ToArray() }, transaction, cancellationToken: ct)))
            .ToHashSet(StringComparer.Ordinal);
        var keyed = new List<(Guid Id, string Key)>();
        var parked = new List<Guid>();
        for (var i = 0; i < pending.Count; i++)
        {
            if (taken.Add(keys[i]))
            {
                keyed.Add((pending[i].Id, keys[i]));
            }
            else
            {
                parked.Add(pending[i].Id);
            }
        }
        const string keySql = """
            update users u
            set email_key = k.key
            from unnest(@Ids, @Keys) as k (id, key)
            where u.id = k.id
            """;
        await connection.ExecuteAsync(new CommandDefinition(keySql,
            new { Ids = keyed.Select(k => k.Id).ToArray(), Keys = keyed.Select(k => k.Key).ToArray() }, transaction, cancellationToken: ct));
        if (keyed.Count > 0)
        {
            logger.LogInformation("Keyed the email addresses of {Count} accounts", keyed.Count);
        }
        if (parked.Count > 0)
        {
            logger.LogWarning("{Count} accounts share their email address with an older account and cannot sign in by it: {UserIds}",
                parked.Count, string.Join(", ", parked));
        }
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
