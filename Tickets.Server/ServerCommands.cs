// The command line: serve (default), migrate, create-admin, demote-admin, create-app-role, openapi.
using Npgsql;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Server;

public static class ServerCommands
{
    public const string AdminPasswordVariable = "TICKETS_ADMIN_PASSWORD";
    public const string AppRolePasswordVariable = "TICKETS_APP_ROLE_PASSWORD";

    public static async Task<int> RunAsync(string[] args)
    {
        // The first argument is the command unless it is an option (then it is "serve" with those options).
        var hasCommand = args.Length > 0 && !args[0].StartsWith('-');
        var command = hasCommand ? args[0] : "serve";
        var rest = hasCommand ? args[1..] : args;
        switch (command)
        {
            case "serve":
                await using (var app = await ServerApp.BuildAsync(rest))
                {
                    await app.RunAsync();
                }
                return 0;
            case "migrate":
                return await WithServicesAsync(rest, async (services, logger) =>
                {
                    var applied = await Migrator.MigrateAsync(services.GetRequiredService<NpgsqlDataSource>(), logger, CancellationToken.None);
                    logger.LogInformation("Migrations applied: {Applied}", applied.Count == 0 ? "none (up to date)" : string.Join(", ", applied));
                    return 0;
                });
            case "create-admin" when rest.Length >= 1:
                return await WithServicesAsync(rest[1..], async (services, logger) =>
                {
                    var password = Environment.GetEnvironmentVariable(AdminPasswordVariable);
                    if (AuthEndpoints.ValidateCredentials(rest[0], password) is not null)
                    {
                        logger.LogError("Give a valid email and set {Variable} to a password of 8 to 128 characters that is not a common one", AdminPasswordVariable);
                        return 2;
                    }
                    await Migrator.MigrateAsync(services.GetRequiredService<NpgsqlDataSource>(), logger, CancellationToken.None);
                    var admin = await services.GetRequiredService<UserStore>().UpsertAdminAsync(rest[0].Trim(), PasswordHasher.Hash(password!), CancellationToken.None);
                    logger.LogInformation("Admin {Email} ready (user id {UserId})", admin.Email, admin.Id);
                    return 0;
                });
            case "demote-admin" when rest.Length >= 1:
                // Admin routes read the role from the database on every request: the next one is refused.
                return await WithServicesAsync(rest[1..], async (services, logger) =>
                {
                    var demoted = await services.GetRequiredService<UserStore>().SetRoleAsync(rest[0], Roles.User, CancellationToken.None);
                    if (!demoted)
                    {
                        logger.LogError("No account has the email {Email}", rest[0]);
                        return 1;
                    }
                    logger.LogInformation("{Email} is a user now; admin requests with its tokens are refused from now on", rest[0]);
                    return 0;
                });
            case "create-app-role" when rest.Length >= 1:
                // Run as the server's administrator after `migrate`: the deployed app then connects as this role.
                return await WithServicesAsync(rest[1..], async (services, logger) =>
                {
                    var password = Environment.GetEnvironmentVariable(AppRolePasswordVariable);
                    if (!AppRole.IsValidName(rest[0]) || string.IsNullOrEmpty(password))
                    {
                        logger.LogError("Give a role name (lower-case letters, digits, underscores) and set {Variable} to its password", AppRolePasswordVariable);
                        return 2;
                    }
                    await AppRole.EnsureAsync(services.GetRequiredService<NpgsqlDataSource>(), rest[0], password, CancellationToken.None);
                    logger.LogInformation("App role {Role} ready: rows of the schema's tables only", rest[0]);
                    return 0;
                });
            case "openapi":
                // The document both hosts serve at /api/openapi.json, to a file or stdout: no database, no settings.
                var document = await ApiDocument.GenerateAsync(CancellationToken.None);
                if (rest.Length >= 1)
                {
                    await File.WriteAllTextAsync(rest[0], document);
                }
                else
                {
                    await Console.Out.WriteAsync(document);
                }
                return 0;
            default:
                await Console.Error.WriteLineAsync("""
                    Usage: Tickets.Server [serve] [--urls http://127.0.0.1:7071]
                           Tickets.Server migrate
                           TICKETS_ADMIN_PASSWORD=... Tickets.Server create-admin <email>
                           Tickets.Server demote-admin <email>
                           TICKETS_APP_ROLE_PASSWORD=... Tickets.Server create-app-role <role>
                       Tickets.Server openapi [file]
                    """);
                return 2;
        }
    }

    private static async Task<int> WithServicesAsync(string[] args, Func<IServiceProvider, ILogger, Task<int>> work)
    {
        await using var app = await ServerApp.BuildAsync(args);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Tickets.Server");
        return await work(app.Services, logger);
    }
}
