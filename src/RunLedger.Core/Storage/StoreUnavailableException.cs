using System.Data.Common;

namespace RunLedger.Core.Storage;

/// <summary>
/// The database cannot be reached or refused the work for a reason that passes by itself (the
/// server is down or restarting, the connection broke, too many connections). Nothing of the
/// operation took effect; the caller may retry later. Stores throw this for transient connection
/// failures; the server answers it with 503 and Retry-After in one place.
/// </summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException()
        : base("The store is unavailable.")
    {
    }

    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// True when <paramref name="exception"/> or one of its inner exceptions says the store is
    /// unavailable for now: a <see cref="StoreUnavailableException"/>, or a provider's
    /// <see cref="DbException"/> that the provider itself marks transient. Store-agnostic, so a
    /// provider that does not translate its errors is still classified correctly.
    /// </summary>
    public static bool IsUnavailable(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is StoreUnavailableException or DbException { IsTransient: true })
            {
                return true;
            }

            if (current is AggregateException aggregate && aggregate.InnerExceptions.Any(IsUnavailable))
            {
                return true;
            }
        }

        return false;
    }
}
