using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// The field or property is the mmu_lock (a <c>System.Threading.Lock</c> or an <see cref="object"/> used with
    /// <c>lock</c> or <c>System.Threading.Monitor</c>); or, on a class or struct, the type is a scope whose lifetime holds
    /// the mmu_lock (taken when it is made, released by <c>Dispose</c>), used as <c>using (new Scope(...))</c>.
    /// </summary>
    /// <remarks>
    /// The rules recognise as lock regions <c>lock (x)</c>, <c>using (x.EnterScope())</c> and <c>Monitor.Enter(x)</c> /
    /// <c>x.Enter()</c> released in a <c>finally</c>, where <c>x</c> is a member carrying this attribute, and the
    /// <c>using</c> of a scope type carrying it.
    /// </remarks>
    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = true)]
    public sealed class MmuLockAttribute : Attribute
    {
    }
}
