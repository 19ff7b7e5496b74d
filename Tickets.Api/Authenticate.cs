// The authentication steps ApiGate runs before a protected operation (Access in the declaration).
using Microsoft.AspNetCore.Http;
using Tickets.Data;

namespace Tickets.Api;

internal static class Authenticate
{
    /// <summary>The caller, or the 401 problem to answer with. Trusts the token's role claim: buyers' routes.</summary>
    public static async Task<(Caller? Caller, IResult? Problem)> RequireAsync(TokenService tokens, HttpContext context)
    {
        var caller = await tokens.AuthenticateAsync(context.Request);
        if (caller is null)
        {
            return (null, Problems.Unauthorized(context.Request.Headers.Authorization.Count == 0
                ? "Send a bearer token: Authorization: Bearer <token> (POST /api/auth/token or /api/auth/guest)."
                : "The bearer token is invalid or expired."));
        }
        return (caller, null);
    }

    /// <summary>
    /// An admin, or the 401/403 problem. The token's role claim is only the first filter: the account's role is
    /// read from the database on every admin request, so a demotion takes effect on the next one rather than when
    /// the token expires. Buyers' routes never pay for this lookup.
    /// </summary>
    public static async Task<(Caller? Caller, IResult? Problem)> RequireAdminAsync(TokenService tokens, UserStore users, HttpContext context)
    {
        var (caller, problem) = await RequireAsync(tokens, context);
        if (problem is not null)
        {
            return (null, problem);
        }
        if (!await IsStillAdminAsync(users, caller!, context.RequestAborted))
        {
            return (null, Problems.Forbidden("This operation needs the admin role."));
        }
        return (caller, null);
    }

    /// <summary>Whether a caller whose token claims the admin role still has it.</summary>
    public static async Task<bool> IsStillAdminAsync(UserStore users, Caller caller, CancellationToken cancellationToken) =>
        caller.IsAdmin && await users.RoleAsync(caller.UserId, cancellationToken) == Roles.Admin;
}
