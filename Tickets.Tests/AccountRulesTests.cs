using Tickets.Api;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>The comparison rule for email addresses and the password rules, without a server.</summary>
public sealed class AccountRulesTests
{
    [Theory]
    [InlineData("victim-kik@example.test", "victim-\u212Aik@example.test")] // KELVIN SIGN
    [InlineData("victim@example.test", "v\u0130ctim@example.test")] // LATIN CAPITAL LETTER I WITH DOT ABOVE
    [InlineData("victim@example.test", "\uFF56ictim@example.test")] // FULLWIDTH LATIN SMALL LETTER V
    [InlineData("caf\u00E9@example.test", "cafe\u0301@example.test")] // composed and decomposed é
    [InlineData("victim@example.test", "VICTIM@EXAMPLE.TEST")]
    [InlineData("victim@example.test", "  Victim@Example.test ")]
    [InlineData("victim@example.test", "victim\uFF20example.test")] // FULLWIDTH COMMERCIAL AT
    [InlineData("seashell@example.test", "sea\u017Fhell@example.test")] // LATIN SMALL LETTER LONG S
    public void Look_alike_spellings_of_an_address_have_one_key(string original, string lookAlike)
    {
        Assert.True(EmailAddress.TryParse(original, out _, out var key));
        Assert.True(EmailAddress.TryParse(lookAlike, out _, out var other));
        Assert.Equal(key, other);
        Assert.Equal(key, EmailAddress.Key(lookAlike));
    }

    [Theory]
    [InlineData("\u200Bvictim@example.test")] // ZERO WIDTH SPACE
    [InlineData("vic\u200Dtim@example.test")] // ZERO WIDTH JOINER
    [InlineData("victim@exam\u00ADple.test")] // SOFT HYPHEN
    [InlineData("\u2066victim@example.test")] // LEFT-TO-RIGHT ISOLATE
    [InlineData("vic tim@example.test")]
    [InlineData("victim\u00A0@example.test")] // NO-BREAK SPACE
    [InlineData("vic\uE000tim@example.test")] // private use
    [InlineData("victim@example.test\u0000")]
    [InlineData("victim")]
    [InlineData("@example.test")]
    [InlineData("victim@")]
    [InlineData("a@b@example.test")]
    [InlineData("a\uFF20b@example.test")] // a second @, fullwidth
    public void Addresses_with_invisible_characters_or_a_wrong_shape_are_refused(string email)
    {
        Assert.False(EmailAddress.TryParse(email, out _, out _));
    }

    [Fact]
    public void The_key_drops_invisible_characters_so_existing_look_alikes_collide_when_migrated()
    {
        Assert.Equal(EmailAddress.Key("victim@example.test"), EmailAddress.Key("\u200Bvictim@example.test"));
    }

    [Theory]
    [InlineData("12345678")]
    [InlineData("password")]
    [InlineData("PASSWORD")]
    [InlineData("        ")]
    [InlineData("aaaaaaaaaaaa")]
    [InlineData("87654321")]
    [InlineData("abcdefghij")]
    [InlineData("qwertyuiop")]
    [InlineData("iloveyou")]
    [InlineData("p@ssw0rd")]
    [InlineData("tickets123")]
    [InlineData("victim2024!")] // the address's local part
    [InlineData("victim@example.test")]
    public void Common_and_context_derived_passwords_are_weak(string password)
    {
        Assert.True(PasswordPolicy.IsWeak(password, EmailAddress.Key("victim@example.test")), password);
    }

    [Theory]
    [InlineData("correct horse")]
    [InlineData("password-1")]
    [InlineData("tr0ub4dor&3x")]
    [InlineData("no digits or symbols needed")]
    public void Passwords_without_any_composition_rule_are_accepted_when_not_common(string password)
    {
        Assert.True(PasswordPolicy.HasValidLength(password));
        Assert.False(PasswordPolicy.IsWeak(password, EmailAddress.Key("victim@example.test")), password);
    }

    [Fact]
    public void Length_counts_characters_not_utf16_units()
    {
        Assert.True(PasswordPolicy.HasValidLength(string.Concat(Enumerable.Repeat("\U0001F600", 8))));
        Assert.False(PasswordPolicy.HasValidLength(string.Concat(Enumerable.Repeat("\U0001F600", 7))));
        Assert.False(PasswordPolicy.HasValidLength("seven.."));
    }
}
