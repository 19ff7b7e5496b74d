using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// The deployed app's own login: rows of the schema's tables, nothing more. As on a managed server, the schema is
/// migrated and the role created by an administrator who may create roles but is no superuser. Roles are global to
/// the server, so every test has roles of its own and drops them afterwards.
/// </summary>
public sealed class AppRoleTests : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..12];
    private string Schema => "r_" + _suffix;
    private string Admin => "t_admin_" + _suffix;
    private string Role => "t_app_" + _suffix;
    private const string AdminPassword = "admin-password-0123456789";

    private NpgsqlDataSource _superuser = null!;
    private NpgsqlDataSource _admin = null!;

    public async Task InitializeAsync()
    {
        var server = await PostgresFixture.ServerConnectionString;
        _superuser = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(server) { SearchPath = Schema }.ConnectionString);
        await using (var connection = await _superuser.OpenConnectionAsync())
        {
            await connection.ExecuteAsync($"create role {Admin} login createrole password '{AdminPassword}'");
            await connection.ExecuteAsync($"create schema {Schema} authorization {Admin}");
        }
        _admin = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(server)
        {
            SearchPath = Schema, Username = Admin, Password = AdminPassword,
        }.ConnectionString);
        await Migrator.MigrateAsync(_admin, NullLogger.Instance, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _admin.DisposeAsync();
        await using (var connection = await _superuser.OpenConnectionAsync())
        {
            await connection.ExecuteAsync($"drop schema if exists {Schema} cascade");
            foreach (var role in new[] { Role, Admin })
            {
                await connection.ExecuteAsync($"""
                    do $$ begin
                        if exists (select 1 from pg_roles where rolname = '{role}') then
                            drop owned by {role};
                            drop role {role};
                        end if;
                    end $$
                    """);
            }
        }
        await _superuser.DisposeAsync();
    }

    private async Task<NpgsqlConnection> AsAppRoleAsync()
    {
        var connection = await _superuser.OpenConnectionAsync();
        await connection.ExecuteAsync($"set role {Role}");
        return connection;
    }

    [Fact]
    public async Task The_app_role_reads_and_writes_rows_but_cannot_change_the_schema()
    {
        await AppRole.EnsureAsync(_admin, Role, "first-password-0123456789", CancellationToken.None);

        await using var connection = await AsAppRoleAsync();
        var tables = (await connection.QueryAsync<string>(
            "select tablename from pg_tables where schemaname = current_schema() and tablename <> 'schema_migrations'")).ToList();
        Assert.NotEmpty(tables);
        foreach (var table in tables)
        {
            Assert.True(await connection.ExecuteScalarAsync<bool>(
                "select has_table_privilege(current_user, format('%I.%I', current_schema(), @table), 'select, insert, update, delete')", new { table }), table);
            Assert.False(await connection.ExecuteScalarAsync<bool>(
                "select has_table_privilege(current_user, format('%I.%I', current_schema(), @table), 'truncate')", new { table }), table);
        }
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*) from events"));
        Assert.True(await connection.ExecuteScalarAsync<bool>(
            "select has_table_privilege(current_user, format('%I.schema_migrations', current_schema()), 'select')"));
        Assert.False(await connection.ExecuteScalarAsync<bool>(
            "select has_table_privilege(current_user, format('%I.schema_migrations', current_schema()), 'insert, update, delete')"));

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("create table intruder (id int)"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("alter table events add column intruder int"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
    }

    [Fact]
    public async Task Running_it_again_sets_the_new_password_and_keeps_one_set_of_grants()
    {
        await AppRole.EnsureAsync(_admin, Role, "first-password-0123456789", CancellationToken.None);
        await AppRole.EnsureAsync(_admin, Role, "second-password-0123456789", CancellationToken.None);

        await using var connection = await _superuser.OpenConnectionAsync();
        var role = await connection.QuerySingleAsync<(bool Login, bool Super, bool CreateRole, bool CreateDb)>(
            "select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = @role", new { role = Role });
        Assert.Equal((true, false, false, false), role);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
            "select count(*) from pg_default_acl d join pg_namespace n on n.oid = d.defaclnamespace where n.nspname = current_schema() and d.defaclobjtype = 'r'"));
    }

    [Fact]
    public async Task Tables_a_later_migration_creates_are_granted_too()
    {
        await AppRole.EnsureAsync(_admin, Role, "first-password-0123456789", CancellationToken.None);
        await using (var admin = await _admin.OpenConnectionAsync())
        {
            await admin.ExecuteAsync("create table later_table (id int primary key)");
        }

        await using var connection = await AsAppRoleAsync();
        await connection.ExecuteAsync("insert into later_table (id) values (1)");
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("select count(*) from later_table"));
    }

    [Theory]
    [InlineData("Tickets_App")]
    [InlineData("app; drop table events")]
    [InlineData("")]
    public async Task Names_that_are_not_plain_identifiers_are_refused(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => AppRole.EnsureAsync(_admin, name, "password-0123456789", CancellationToken.None));
    }
}
