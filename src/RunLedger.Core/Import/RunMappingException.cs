namespace RunLedger.Core.Import;

/// <summary>A field mapping that does not fit the documents: the import stops so the mapping can be fixed.</summary>
public sealed class RunMappingException : Exception
{
    public RunMappingException(string message)
        : base(message)
    {
    }

    public RunMappingException()
    {
    }

    public RunMappingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
