// Checks on client text before it reaches PostgreSQL, which cannot store U+0000 in text.
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Tickets.Api;

internal static class Text
{
    public static bool HasControlCharacters(string value) => value.AsSpan().ContainsAnyInRange('\u0000', '\u001f') || value.Contains('\u007f');

    /// <summary>The string value, or false for one that is not valid UTF-16 (an unpaired surrogate escape).</summary>
    public static bool TryGetString(JsonElement element, [NotNullWhen(true)] out string? value)
    {
        try
        {
            value = element.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = null;
            return false;
        }
    }
}
