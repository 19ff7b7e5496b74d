// The one comparison rule for email addresses, shared by sign-up, sign-in, the sign-in throttle and the migration
// that keyed the accounts made before it: addresses that look the same are the same address.
using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Tickets.Data;

public static class EmailAddress
{
    public const int MaxLength = 254;

    private const int HangulFirst = 0xAC00;
    private const int HangulCount = 11172;

    private static readonly (FrozenDictionary<int, int[]> Fold, FrozenDictionary<int, int> CombiningClass) Table = Load();

    /// <summary>
    /// The address as typed (trimmed) and its key, or false when it is not acceptable: control, invisible (format),
    /// separator, private-use, unassigned or unpaired surrogate characters anywhere, or not exactly one <c>@</c>
    /// between a local part and a domain once folded.
    /// </summary>
    public static bool TryParse(string? input, out string display, out string key)
    {
        display = key = "";
        var trimmed = input?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxLength || HasRefusedCharacters(trimmed))
        {
            return false;
        }
        var candidate = Key(trimmed);
        var at = candidate.IndexOf('@', StringComparison.Ordinal);
        if (at < 1 || at == candidate.Length - 1 || candidate.LastIndexOf('@') != at || candidate.Length > MaxLength * 3
            || candidate.AsSpan().ContainsAny(" \t\r\n"))
        {
            return false;
        }
        display = trimmed;
        key = candidate;
        return true;
    }

    /// <summary>
    /// The comparison key: invisible (format) characters dropped, then Unicode's compatibility caseless form
    /// (NFKD(casefold(NFKD(x))), Unicode §3.13 D146) in canonical order. So KELVIN SIGN and K, fullwidth and ASCII
    /// letters, composed and decomposed é, ſ and s are one address; İ folds to i (its full folding, i and a
    /// combining dot, is not what anyone types for i). The apps run without ICU (InvariantGlobalization), where
    /// string.Normalize does nothing, so the folding is a table generated from the Unicode data
    /// (scripts/generate-email-folding.py).
    /// </summary>
    public static string Key(string email)
    {
        var folded = new List<int>(email.Length + 8);
        foreach (var rune in email.Trim().EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format)
            {
                continue;
            }
            var cp = rune.Value;
            if (cp - HangulFirst is >= 0 and < HangulCount)
            {
                // Hangul syllables decompose algorithmically (Unicode §3.12) and have no case.
                var index = cp - HangulFirst;
                folded.Add(0x1100 + (index / 588));
                folded.Add(0x1161 + (index % 588 / 28));
                if (index % 28 != 0)
                {
                    folded.Add(0x11A7 + (index % 28));
                }
            }
            else if (Table.Fold.TryGetValue(cp, out var mapped))
            {
                folded.AddRange(mapped);
            }
            else
            {
                folded.Add(cp);
            }
        }
        // Canonical ordering: each run of combining marks sorted (stably) by combining class.
        for (var start = 0; start < folded.Count; start++)
        {
            var end = start;
            while (end < folded.Count && Table.CombiningClass.ContainsKey(folded[end]))
            {
                end++;
            }
            if (end - start > 1)
            {
                var run = folded.GetRange(start, end - start).OrderBy(c => Table.CombiningClass[c]).ToList();
                folded.RemoveRange(start, run.Count);
                folded.InsertRange(start, run);
            }
            start = Math.Max(start, end);
        }
        var key = new StringBuilder(folded.Count);
        foreach (var cp in folded)
        {
            key.Append(new Rune(cp));
        }
        return key.ToString();
    }

    /// <summary>Control, invisible (format), separator, private-use, unassigned or unpaired surrogate characters.</summary>
    public static bool HasRefusedCharacters(string text) => Any(text, category => category is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
        or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned);

    /// <summary>Control or invisible (format) characters, or unpaired surrogates: what no address typed at sign-in can hold.</summary>
    public static bool HasInvisibleCharacters(string text) => Any(text, category => category is UnicodeCategory.Control or UnicodeCategory.Format);

    private static bool Any(string text, Func<UnicodeCategory, bool> refused)
    {
        for (var i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var used) != System.Buffers.OperationStatus.Done
                || refused(Rune.GetUnicodeCategory(rune)))
            {
                return true;
            }
            i += used;
        }
        return false;
    }

    private static (FrozenDictionary<int, int[]>, FrozenDictionary<int, int>) Load()
    {
        using var stream = typeof(EmailAddress).Assembly.GetManifestResourceStream("EmailFolding.txt")
            ?? throw new InvalidOperationException("Embedded resource EmailFolding.txt is missing.");
        using var reader = new StreamReader(stream);
        var fold = new Dictionary<int, int[]>();
        var combining = new Dictionary<int, int>();
        while (reader.ReadLine() is { } line)
        {
            var parts = line.Split(' ');
            if (parts[0] == "M")
            {
                fold[Hex(parts[1])] = parts[2..].Select(Hex).ToArray();
            }
            else if (parts[0] == "C")
            {
                combining[Hex(parts[1])] = int.Parse(parts[2], CultureInfo.InvariantCulture);
            }
        }
        return (fold.ToFrozenDictionary(), combining.ToFrozenDictionary());
    }

    private static int Hex(string text) => int.Parse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
}
