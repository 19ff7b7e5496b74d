// POST /api/auth/register, /api/auth/token, /api/auth/guest.
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tickets.Data;

namespace Tickets.Api;

public sealed class AuthEndpoints(UserStore users, TokenService tokens, AbuseLimits limits, ILogger<AuthEndpoints> logger)
{
    private const int MinPasswordLength = 8;
    private const int MaxPasswordLength = 128;
    private const int MaxEmailLength = 254;

    public async Task<IResult> RegisterAsync(HttpContext context)
    {
        if (limits.Auth(context) is { } limited)
        {
            return limited;
        }
        var (body, problem) = await ApiJson.ReadAsync<CredentialsRequest>(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }
        if (ValidateCredentials(body!.Email, body.Password) is { } invalid)
        {
            return invalid;
        }
        var email = body.Email!.Trim();
        var user = await users.CreateAsync(email, PasswordHasher.Hash(body.Password!), Roles.User, context.RequestAborted);
        if (user is null)
        {
            return Problems.Conflict(ProblemCodes.EmailTaken, "The email is already registered.", "Sign in instead, or use another email.");
        }
        logger.LogInformation("Registered user {UserId}", user.Id);
        return TypedResults.Created((string?)null, new UserResponse(user.Id, user.Email, user.Role));
    }

    /// <summary>JSON <c>{email,password}</c>, or an OAuth2 password-grant form (<c>username</c>, <c>password</c>).</summary>
    public async Task<IResult> TokenAsync(HttpContext context)
    {
        if (limits.Auth(context) is { } limited)
        {
            return limited;
        }
        string? email;
        string? password;
        if (context.Request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true)
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
                "Unsupported media type.", "Send JSON, or an application/x-www-form-urlencoded form.");
        }
        if (context.Request.HasFormContentType)
        {
            if (context.Request.ContentLength is null or > ApiJson.MaxBodyBytes)
            {
                return ApiJson.BodyTooLarge();
            }
            IFormCollection form;
            try
            {
                form = await context.Request.ReadFormAsync(context.RequestAborted);
            }
            catch (InvalidDataException)
            {
                return Problems.BadRequest("The form is malformed or exceeds the form limits.");
            }
            email = form["username"].Count == 1 ? form["username"].ToString() : null;
            password = form["password"].Count == 1 ? form["password"].ToString() : null;
        }
        else
        {
            var (body, problem) = await ApiJson.ReadAsync<CredentialsRequest>(context.Request, context.RequestAborted);
            if (problem is not null)
            {
                return problem;
            }
            (email, password) = (body!.Email, body.Password);
        }
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrEmpty(password)
            || email.Length > MaxEmailLength || password.Length > MaxPasswordLength || Text.HasControlCharacters(email))
        {
            return Problems.BadRequest("Both email (or username) and password are required, without control characters.");
        }
        if (limits.SignInLockedOut(email) is { } lockedOut)
        {
            return lockedOut;
        }
        var user = await users.FindByEmailAsync(email.Trim(), context.RequestAborted);
        if (!PasswordHasher.Verify(password, user?.PasswordHash))
        {
            limits.SignInFailed(email);
            logger.LogInformation("Failed sign-in");
            return Problems.Create(StatusCodes.Status401Unauthorized, ProblemCodes.InvalidCredentials,
                "Invalid credentials.", "The email or password is wrong.");
        }
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(tokens.Issue(user!.Id, user.Role));
    }

    /// <summary>An anonymous buyer: a guest account with no email, usable only through the returned token.</summary>
    public async Task<IResult> GuestAsync(HttpContext context)
    {
        if (limits.Auth(context) is { } limited)
        {
            return limited;
        }
        var user = await users.CreateAsync(null, null, Roles.Guest, context.RequestAborted)
            ?? throw new InvalidOperationException("A guest account could not be created.");
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created((string?)null, tokens.Issue(user.Id, user.Role));
    }

    public static IResult? ValidateCredentials(string? email, string? password)
    {
        var trimmed = email?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxEmailLength || trimmed.Contains(' ', StringComparison.Ordinal)
            || Text.HasControlCharacters(trimmed)
            || trimmed.IndexOf('@', StringComparison.Ordinal) is var at && (at < 1 || at == trimmed.Length - 1 || trimmed.LastIndexOf('@') != at))
        {
            return Problems.BadRequest("email must be a valid email address of at most 254 characters.");
        }
        if (password is null || password.Length is < MinPasswordLength or > MaxPasswordLength)
        {
            return Problems.BadRequest($"password must be {MinPasswordLength} to {MaxPasswordLength} characters long.");
        }
        return null;
    }
}
