// The authentication step each protected handler starts with.
using Microsoft.AspNetCore.Http;

namespace Tickets.Api;

internal static class Authenticate
{
    /// <summary>The caller, or the 401/403 problem to answer with.</summary>
    public static async Task<(Caller? Caller, IResult? Problem)> RequireAsync(TokenService tokens, HttpContext context, bool admin = false)
    {
        var caller = await tokens.AuthenticateAsync(context.Request);
        if (caller is null)
        {
            return (null, Problems.Unauthorized(context.Request.Headers.Authorization.Count == 0
                ? "Send a bearer token: Authorization: Bearer <token> (POST /api/auth/token or /api/auth/guest)."
                : "The bearer token is invalid or expired."));
        }
        if (admin && !caller.IsAdmin)
        {
            return (null, Problems.Forbidden("This operation needs the admin role."));
        }
        return (caller, null);
    }
}
