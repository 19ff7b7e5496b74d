using Dapper;
using Npgsql;

namespace Tickets.Data;

/// <summary>Accounts: registered users, admins and anonymous guests. Emails are compared by <see cref="EmailAddress.Key"/>.</summary>
public sealed class UserStore(Database database)
{
    /// <returns>The new user, or null when the email is taken (by any address with the same key).</returns>
    public Task<User?> CreateAsync(string? email, string? passwordHash, string role, CancellationToken cancellationToken) =>
        database.InOneRoundTripAsync<User?>(async (connection, ct) =>
        {
            const string sql = """
                insert into users (id, email, email_key, password_hash, role)
                values (@Id, @Email, @EmailKey, @PasswordHash, @Role)
                on conflict (email_key) where email_key is not null do nothing
                returning id, email, password_hash, role, created_at
                """;
            return await connection.QuerySingleOrDefaultAsync<User>(new CommandDefinition(sql,
                new { Id = Guid.CreateVersion7(), Email = email, EmailKey = KeyOf(email), PasswordHash = passwordHash, Role = role },
                cancellationToken: ct));
        }, cancellationToken);

    public Task<User?> FindByEmailAsync(string email, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = """
                select id, email, password_hash, role, created_at
                from users
                where email_key = @EmailKey
                """;
            return await connection.QuerySingleOrDefaultAsync<User>(new CommandDefinition(sql, new { EmailKey = KeyOf(email) }, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>The account's role now (null: no such account), for admin routes, which must not trust a token's claim.</summary>
    public Task<string?> RoleAsync(Guid userId, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = "select role from users where id = @Id";
            return await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(sql, new { Id = userId }, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>Creates the admin, or promotes and re-keys an existing account with that email.</summary>
    public Task<User> UpsertAdminAsync(string email, string passwordHash, CancellationToken cancellationToken) =>
        database.InOneRoundTripAsync(async (connection, ct) =>
        {
            const string sql = """
                insert into users (id, email, email_key, password_hash, role)
                values (@Id, @Email, @EmailKey, @PasswordHash, 'admin')
                on conflict (email_key) where email_key is not null
                do update set role = 'admin', password_hash = excluded.password_hash
                returning id, email, password_hash, role, created_at
                """;
            return await connection.QuerySingleAsync<User>(new CommandDefinition(sql,
                new { Id = Guid.CreateVersion7(), Email = email, EmailKey = KeyOf(email), PasswordHash = passwordHash }, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>Changes an account's role (the admin command's demote); false when there is no such email.</summary>
    public Task<bool> SetRoleAsync(string email, string role, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = "update users set role = @Role where email_key = @EmailKey and role <> 'guest'";
            return await connection.ExecuteAsync(new CommandDefinition(sql, new { EmailKey = KeyOf(email), Role = role }, cancellationToken: ct)) == 1;
        }, cancellationToken);

    private static string? KeyOf(string? email) => email is null ? null : EmailAddress.Key(email);
}
