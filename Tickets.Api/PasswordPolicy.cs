// Passwords as NIST SP 800-63B (rev. 3, §5.1.1.2) asks of a verifier: at least 8 characters (Unicode code points,
// spaces included), at most 128, no composition rules (no "a digit and a symbol"), and refused when the password
// is commonly used or derived from the context: a shipped list of common passwords, repeated characters, straight
// sequences and keyboard runs, the service's name and the email address. (Rev. 4 keeps these rules but asks for
// 15 characters where a password is the only factor, as it is here: MinLength is the one place to raise it.)
using System.Collections.Frozen;

namespace Tickets.Api;

public static class PasswordPolicy
{
    public const int MinLength = 8;
    public const int MaxLength = 128;

    private static readonly FrozenSet<string> Common = DocsEndpoints.Read("common-passwords.txt")
        .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        .Where(line => !line.StartsWith('#'))
        .Select(line => line.ToLowerInvariant())
        .ToFrozenSet(StringComparer.Ordinal);

    private static readonly string[] Runs =
    [
        "0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "azertyuiop",
        "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "1q2w3e4r5t6y7u8i9o0p", "qazwsxedcrfvtgbyhnujmikolp",
    ];

    public static bool HasValidLength(string password) => password.EnumerateRunes().Count() is >= MinLength and <= MaxLength;

    /// <summary>Whether the password is commonly used or guessable from the context (the account's email key).</summary>
    public static bool IsWeak(string password, string? emailKey)
    {
        var lower = password.ToLowerInvariant();
        if (lower.Distinct().Count() == 1 || Common.Contains(lower) || Common.Contains(lower.Trim()))
        {
            return true;
        }
        if (Runs.Any(run => run.Contains(lower, StringComparison.Ordinal) || Reverse(run).Contains(lower, StringComparison.Ordinal)))
        {
            return true;
        }
        if (emailKey is not null)
        {
            var local = emailKey[..Math.Max(0, emailKey.IndexOf('@', StringComparison.Ordinal))];
            var stem = lower.TrimEnd("0123456789!@#$%^&*()-_=+.,?".ToCharArray());
            if (lower == emailKey || (local.Length > 0 && stem == local))
            {
                return true;
            }
        }
        return false;
    }

    private static string Reverse(string s)
    {
        var chars = s.ToCharArray();
        Array.Reverse(chars);
        return new string(chars);
    }
}
