namespace RunLedger.Core.Import;

/// <summary>A run document that cannot be read as a run: which file and why.</summary>
public sealed class RunDocumentException : Exception
{
    public RunDocumentException(string file, string problem)
        : base($"{file}: {problem}")
    {
        File = file;
    }

    public RunDocumentException()
    {
        File = string.Empty;
    }

    public RunDocumentException(string message)
        : base(message)
    {
        File = string.Empty;
    }

    public RunDocumentException(string message, Exception innerException)
        : base(message, innerException)
    {
        File = string.Empty;
    }

    public string File { get; }
}
