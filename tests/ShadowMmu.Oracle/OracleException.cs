using System;

namespace ShadowMmu.Oracle;

/// <summary>
/// The oracle could not answer: the case is outside what the harness supports (the message says which
/// constraint), or QEMU did something the harness does not understand. Never a statement about the walk.
/// </summary>
public sealed class OracleException : Exception
{
    public OracleException(string message)
        : base(message)
    {
    }

    public OracleException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
