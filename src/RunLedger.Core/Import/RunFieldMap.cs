using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RunLedger.Core.Import;

/// <summary>
/// Maps fields of a foreign run document onto the ingest wire shape: each entry
/// <c>field=path</c> copies the value at <c>path</c> (dotted names with optional <c>[n]</c>
/// indexes, an optional leading <c>$.</c>) into the wire field <c>field</c> (<c>model</c>,
/// <c>usage.inputTokens</c>, ...). Fields not mapped are read from the document as they are.
/// </summary>
/// <remarks>
/// A small path reader is written here because no JSONPath library is available; it covers the
/// member and index steps run documents need, and nothing else (no wildcards or filters).
/// </remarks>
public sealed class RunFieldMap
{
    /// <summary>Every wire field a mapping can write.</summary>
    public static IReadOnlyList<string> Targets { get; } =
    [
        "id", "sessionId", "parentId", "kind", "name", "status", "startedAt", "endedAt", "model", "provider", "parameters",
        "input", "output", "error", "error.type", "error.message", "error.stack", "usage", "usage.inputTokens",
        "usage.outputTokens", "usage.cachedTokens", "usage.reasoningTokens", "costUsd", "tags", "metadata", "userId",
    ];

    private static readonly JsonSerializerOptions WriteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly List<(string Target, string Path, IReadOnlyList<object> Steps)> _entries;

    private RunFieldMap(List<(string, string, IReadOnlyList<object>)> entries)
    {
        _entries = entries;
    }

    public static RunFieldMap Empty { get; } = new([]);

    public bool IsEmpty => _entries.Count == 0;

    /// <summary>Parses <c>field=path</c> entries.</summary>
    /// <exception cref="FormatException">An entry is malformed or names a field the wire shape does not have; every problem is listed.</exception>
    public static RunFieldMap Parse(IEnumerable<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var errors = new List<string>();
        var list = new List<(string, string, IReadOnlyList<object>)>();
        foreach (var entry in entries)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == entry.Length - 1)
            {
                errors.Add($"--map '{entry}': write it as field=path, e.g. model=llm.model_name.");
                continue;
            }

            var target = entry[..equals].Trim();
            var path = entry[(equals + 1)..].Trim();
            var known = Targets.FirstOrDefault(t => t.Equals(target, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                errors.Add($"--map '{entry}': '{target}' is not a run field; map to one of {string.Join(", ", Targets)}.");
                continue;
            }

            try
            {
                list.Add((known, path, ParsePath(path)));
            }
            catch (FormatException e)
            {
                errors.Add($"--map '{entry}': {e.Message}");
            }
        }

        if (errors.Count > 0)
        {
            throw new FormatException(string.Join(Environment.NewLine, errors));
        }

        return new RunFieldMap(list);
    }

    /// <summary>
    /// The document with the mapped fields written into their wire places, as JSON text.
    /// </summary>
    /// <exception cref="RunMappingException">A mapped path is not in the document.</exception>
    /// <exception cref="RunDocumentException">The document is not a JSON object.</exception>
    public string Apply(JsonNode document, string file)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (document is not JsonObject root)
        {
            throw new RunDocumentException(file, "the document is not a JSON object.");
        }

        var values = new List<(string Target, JsonNode? Value)>();
        foreach (var (target, path, steps) in _entries)
        {
            if (!TryResolve(root, steps, out var value))
            {
                throw new RunMappingException($"{file}: --map {target}={path}: '{path}' is not in the document; check the path against the file, or leave the mapping out.");
            }

            values.Add((target, value?.DeepClone()));
        }

        foreach (var (target, value) in values)
        {
            var dot = target.IndexOf('.', StringComparison.Ordinal);
            if (dot < 0)
            {
                root[target] = value;
                continue;
            }

            var parent = target[..dot];
            if (root[parent] is not JsonObject inner)
            {
                inner = [];
                root[parent] = inner;
            }

            inner[target[(dot + 1)..]] = value;
        }

        return root.ToJsonString(WriteOptions);
    }

    private static bool TryResolve(JsonNode root, IReadOnlyList<object> steps, out JsonNode? value)
    {
        JsonNode? current = root;
        foreach (var step in steps)
        {
            switch (step)
            {
                case string name when current is JsonObject obj && obj.TryGetPropertyValue(name, out var next):
                    current = next;
                    break;
                case int index when current is JsonArray array && index < array.Count:
                    current = array[index];
                    break;
                default:
                    value = null;
                    return false;
            }
        }

        value = current;
        return true;
    }

    private static List<object> ParsePath(string path)
    {
        var text = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.StartsWith('$') ? path[1..] : path;
        var steps = new List<object>();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '[')
            {
                var close = text.IndexOf(']', i);
                if (close < 0 || !int.TryParse(text.AsSpan(i + 1, close - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    throw new FormatException($"'{path}' has a bad index at character {i + 1}; write e.g. messages[0].content.");
                }

                steps.Add(index);
                i = close + 1;
                if (i < text.Length && text[i] == '.')
                {
                    i++;
                }

                continue;
            }

            var end = i;
            while (end < text.Length && text[end] != '.' && text[end] != '[')
            {
                end++;
            }

            if (end == i)
            {
                throw new FormatException($"'{path}' has an empty name at character {i + 1}.");
            }

            steps.Add(text[i..end]);
            i = end < text.Length && text[end] == '.' ? end + 1 : end;
        }

        if (steps.Count == 0)
        {
            throw new FormatException("the path is empty.");
        }

        return steps;
    }
}
