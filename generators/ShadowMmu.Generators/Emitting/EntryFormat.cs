namespace ShadowMmu.Generators
{
    /// <summary>
    /// The places where the template's output depends on the entry format, as KVM's one <c>paging_tmpl.h</c> differs per
    /// PTTYPE through a few macros and hooks (<c>PT_GUEST_ACCESSED_MASK</c>, <c>FNAME(is_present_gpte)</c>,
    /// <c>FNAME(gpte_access)</c>, the EPT violation in <c>walk_addr_generic</c>): what an entry grants, when it is
    /// present, how a walk ends in a fault, the request's encoding, and the state a walker keeps for its CPU. Everything
    /// else (the levels, the reads, the pages, the reserved bits, the accessed and dirty flags, shadow paging) is the
    /// template's, once for both formats.
    /// </summary>
    internal abstract class EntryFormat
    {
        protected EntryFormat(WalkerPlan plan, SourceWriter writer)
        {
            Plan = plan;
            W = writer;
        }

        public static EntryFormat For(WalkerPlan plan, SourceWriter writer) =>
            plan.Ept != null ? new EptEntryFormat(plan, plan.Ept, writer) : new X86EntryFormat(plan, plan.X86!, writer);

        protected WalkerPlan Plan { get; }

        protected SourceWriter W { get; }

        // ---- Names ----

        /// <summary>The interface the walker implements (besides IShadowFetcher).</summary>
        public abstract string WalkerInterface { get; }

        /// <summary>The address a walk translates: <c>va</c>, or <c>gpa</c> for EPT.</summary>
        public abstract string Input { get; }

        /// <summary>The address of the entry a level reads: <c>gpa</c>, or (host-physical) <c>address</c> for EPT.</summary>
        public abstract string EntryAddress { get; }

        /// <summary>The register that names the root table (<c>CR3</c>, <c>EPTP</c>), as the SDM writes it.</summary>
        public abstract string RootRegister { get; }

        /// <summary>The CpuState field that holds <see cref="RootRegister"/>.</summary>
        public abstract string RootRegisterField { get; }

        /// <summary>The rights accumulated over the levels, where they are a local of their own: <c>access</c>, <c>rights</c>.</summary>
        public abstract string Rights { get; }

        /// <summary>The value <see cref="Rights"/> starts from: every right.</summary>
        public abstract string AllRights { get; }

        /// <summary>
        /// True when the rights and the accessed flags accumulate in one AND of the entries (<c>acc</c>, x86 with its
        /// flags at bits 0 to 2); otherwise <see cref="Rights"/> and <c>accessed</c> are locals of their own.
        /// </summary>
        public virtual bool FoldsRights => false;

        /// <summary>The request bit set when the access writes (for the dirty flag).</summary>
        public abstract int RequestWriteBit { get; }

        // ---- Expressions over an entry ----

        /// <summary>The rights <paramref name="entry"/> grants, as the walk accumulates them in <see cref="Rights"/>.</summary>
        public abstract Expression RightsOf(string entry);

        /// <summary>With <see cref="FoldsRights"/>, what the entries ANDed into <c>acc</c> are, for the pass's comment.</summary>
        public virtual string FoldedDescription => "their present bits";

        /// <summary>With <see cref="FoldsRights"/>, the value ANDed into <c>acc</c> for <paramref name="entry"/>.</summary>
        public virtual string FoldedEntry(string entry) => entry;

        /// <summary>The rights a shadow entry derived from <paramref name="entry"/> may grant, as KVM's ACC bits: ANDed terms.</summary>
        public abstract Expression ShadowRightsOf(string entry);

        /// <summary>True when <paramref name="entry"/> is present.</summary>
        public abstract string PresentTest(string entry);

        /// <summary>True when the present <paramref name="entry"/> is malformed beyond its reserved bits, or null when the format has no such test.</summary>
        public virtual string? MisconfiguredTest(string entry) => null;

        /// <summary>The protection key a shadow leaf derived from <paramref name="entry"/> carries.</summary>
        public virtual string KeyOf(string entry) => "0";

        // ---- Walk endings (calls on the record) ----

        /// <summary>The ending when the entry of <paramref name="level"/> at <paramref name="address"/> lies outside memory.</summary>
        public abstract Call OutsideMemory(int level, string address);

        /// <summary>The ending when a reserved bit of the entry of <paramref name="level"/> is set.</summary>
        public abstract Call ReservedBitSet(int level);

        /// <summary>The endings of an entry that is not present (or otherwise unusable), right after it was read.</summary>
        public abstract void EmitEntryFaults(int level);

        // ---- Sections ----

        /// <summary>The lines of the type's summary, and of the constructor's documentation.</summary>
        public abstract string[] Summary { get; }

        public abstract string[] ConstructorDocumentation { get; }

        /// <summary>The KVM name of the reserved-bits table, for its comment.</summary>
        public abstract string ReservedBitsName { get; }

        /// <summary>The format's own static tables.</summary>
        public abstract void EmitStaticTables();

        /// <summary>The format's own per-CPU-state fields.</summary>
        public abstract void EmitFields();

        /// <summary>The constructor's part that fills <see cref="EmitFields"/>'s fields from <c>cpu</c>.</summary>
        public abstract void EmitConstructorState();

        /// <summary>Public entry points that only wrap the walk's (EPT's WalkAddr over WalkGpa).</summary>
        public virtual void EmitWrappingEntryPoints()
        {
        }

        /// <summary>The entry point that runs the walk (its name and parameters), and its call of Request.</summary>
        public abstract Call EntrySignature { get; }

        public abstract string RequestCall { get; }

        /// <summary>The comment above truncating the input to its width.</summary>
        public abstract string TruncationComment { get; }

        /// <summary>Request (the access as one value) and its helpers.</summary>
        public abstract void EmitRequestHelpers();

        /// <summary>What Leaf checks, for its summary (<c>the rights the request needs, then the translation</c>).</summary>
        public abstract string LeafSummary { get; }

        /// <summary>Leaf's checks of the rights (and keys), ending in a fault; returns the translation's ending (a call on the record).</summary>
        public abstract Call EmitLeafChecks();

        /// <summary>Out-of-line and inlined helpers of the leaf and the levels (x86's Denied, EPT's IsMisconfigured).</summary>
        public abstract void EmitWalkHelpers();

        /// <summary>The fault-path ending for a fault at <paramref name="condition"/>: <c>if (condition) return walk.ending;</c>.</summary>
        protected void EmitFault(string condition, Call ending, bool onRecord = true)
        {
            W.Open("if (" + condition + ")");
            Code.Statement(W, "return " + (onRecord ? "walk." : ""), ending);
            W.Close();
            W.Line();
        }
    }
}
