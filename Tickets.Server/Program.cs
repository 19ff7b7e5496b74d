// Tickets.Server: `dotnet run` serves the API on http://127.0.0.1:7071/api; `migrate` applies the schema;
// `create-admin <email>` creates or resets the first admin (password from TICKETS_ADMIN_PASSWORD).
using Tickets.Server;

return await ServerCommands.RunAsync(args);
