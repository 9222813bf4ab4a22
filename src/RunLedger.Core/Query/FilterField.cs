namespace RunLedger.Core.Query;

/// <summary>One field of the filter language for one target.</summary>
/// <param name="Name">The canonical (snake_case) name the parser puts in the AST.</param>
/// <param name="Type">What values and operators the field accepts.</param>
/// <param name="Aliases">Other accepted spellings, canonicalized to <paramref name="Name"/>.</param>
/// <param name="Values">For <see cref="FilterFieldType.Enum"/> fields, the accepted values.</param>
/// <param name="Description">One line for docs and error messages.</param>
/// <param name="Example">A filter term using the field.</param>
public sealed record FilterField(
    string Name,
    FilterFieldType Type,
    IReadOnlyList<string> Aliases,
    IReadOnlyList<string> Values,
    string Description,
    string Example);
