using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace Tickets.Data;

/// <summary>
/// The login the deployed app connects as: it may read and write the rows of the schema's tables and nothing else
/// (no DDL, no TRUNCATE, no changes to the migration records), so a leaked app connection string cannot alter the
/// schema. Migrations keep running as the server's administrator, who calls this after migrating; tables a later
/// migration creates get the same grants through the default privileges set here.
/// </summary>
public static partial class AppRole
{
    public static bool IsValidName(string name) => RoleName().IsMatch(name);

    /// <summary>Creates the role, or sets its password when it exists, and grants it the app's privileges.</summary>
    public static async Task EnsureAsync(NpgsqlDataSource dataSource, string role, string password, CancellationToken cancellationToken)
    {
        if (!IsValidName(role))
        {
            throw new ArgumentException("A role name is lower-case letters, digits and underscores, starting with a letter or underscore.", nameof(role));
        }
        ArgumentException.ThrowIfNullOrEmpty(password);

        // CREATE ROLE takes no bind parameters, so the name and password reach the DO block as settings local to this
        // transaction and are quoted there with format(%I, %L); neither is ever spliced into the SQL text here.
        const string sql = """
            select set_config('tickets.app_role', @Role, true), set_config('tickets.app_role_password', @Password, true);
            do $$
            declare
                app_role text := current_setting('tickets.app_role');
                secret text := current_setting('tickets.app_role_password');
                target_schema text := current_schema();
            begin
                -- Only LOGIN and the password: naming SUPERUSER or NOSUPERUSER in ALTER ROLE takes a superuser, which
                -- a managed server's administrator is not, and CREATE ROLE leaves every other attribute off.
                if exists (select 1 from pg_roles where rolname = app_role) then
                    execute format('alter role %I with login password %L', app_role, secret);
                else
                    execute format('create role %I with login password %L', app_role, secret);
                end if;
                -- CONNECT comes from PUBLIC's default grant on every database; USAGE on the public schema too.
                if not has_schema_privilege(app_role, target_schema, 'usage') then
                    execute format('grant usage on schema %I to %I', target_schema, app_role);
                end if;
                execute format('grant select, insert, update, delete on all tables in schema %I to %I', target_schema, app_role);
                execute format('grant usage, select on all sequences in schema %I to %I', target_schema, app_role);
                execute format('alter default privileges in schema %I grant select, insert, update, delete on tables to %I', target_schema, app_role);
                execute format('alter default privileges in schema %I grant usage, select on sequences to %I', target_schema, app_role);
                if to_regclass(format('%I.schema_migrations', target_schema)) is not null then
                    execute format('revoke insert, update, delete on %I.schema_migrations from %I', target_schema, app_role);
                end if;
            end
            $$;
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(sql, new { Role = role, Password = password }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex RoleName();
}
