using Dapper;
using Npgsql;

namespace Tickets.Data;

/// <summary>Accounts: registered users, admins and anonymous guests.</summary>
public sealed class UserStore(Database database)
{
    /// <returns>The new user, or null when the email is taken (case-insensitively).</returns>
    public Task<User?> CreateAsync(string? email, string? passwordHash, string role, CancellationToken cancellationToken) =>
        database.InOneRoundTripAsync<User?>(async (connection, ct) =>
        {
            const string sql = """
                insert into users (id, email, password_hash, role)
                values (@Id, @Email, @PasswordHash, @Role)
                on conflict (lower(email)) where email is not null do nothing
                returning id, email, password_hash, role, created_at
                """;
            return await connection.QuerySingleOrDefaultAsync<User>(new CommandDefinition(sql,
                new { Id = Guid.CreateVersion7(), Email = email, PasswordHash = passwordHash, Role = role }, cancellationToken: ct));
        }, cancellationToken);

    public Task<User?> FindByEmailAsync(string email, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = """
                select id, email, password_hash, role, created_at
                from users
                where lower(email) = lower(@Email)
                """;
            return await connection.QuerySingleOrDefaultAsync<User>(new CommandDefinition(sql, new { Email = email }, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>Creates the admin, or promotes and re-keys an existing account with that email.</summary>
    public Task<User> UpsertAdminAsync(string email, string passwordHash, CancellationToken cancellationToken) =>
        database.InOneRoundTripAsync(async (connection, ct) =>
        {
            const string sql = """
                insert into users (id, email, password_hash, role)
                values (@Id, @Email, @PasswordHash, 'admin')
                on conflict (lower(email)) where email is not null
                do update set role = 'admin', password_hash = excluded.password_hash
                returning id, email, password_hash, role, created_at
                """;
            return await connection.QuerySingleAsync<User>(new CommandDefinition(sql,
                new { Id = Guid.CreateVersion7(), Email = email, PasswordHash = passwordHash }, cancellationToken: ct));
        }, cancellationToken);
}
