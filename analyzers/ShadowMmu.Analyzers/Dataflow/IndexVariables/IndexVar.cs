using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;

namespace ShadowMmu.Analyzers.Dataflow.IndexVariables
{
    /// <summary>
    /// An integer variable that indexes are expressed in: a local, a parameter or a field path (<see cref="Path"/>), or the
    /// index of one site that the analysis cannot follow (<see cref="Site"/>), which names a different element each time
    /// the site runs. Interned by <see cref="IndexVarTable"/>: one object per variable.
    /// </summary>
    internal sealed class IndexVar : IInterned
    {
        internal IndexVar(int id, AccessPath? path, TextSpan site, string display)
        {
            Id = id;
            Path = path;
            Site = site;
            Display = display;
        }

        public int Id { get; }

        /// <summary>The variable's location, or null for the unknown index of a site.</summary>
        public AccessPath? Path { get; }

        /// <summary>For the length of an array or span (<c>ptes.Length</c>): the array or span.</summary>
        public AccessPath? LengthOf => Path is { Parent: AccessPath container, Last.Member: IPropertySymbol { Name: "Length" } } ? container : null;

        /// <summary>For the unknown index of a site: that site.</summary>
        public TextSpan Site { get; }

        public string Display { get; }

        /// <summary>Its constant values split a block's states into unroll contexts (see <see cref="IndexVariableFinder"/>).</summary>
        public bool IsContextVariable { get; internal set; }

        /// <summary>What it equals is kept in the state: it may reach an index or a comparison (see <see cref="IndexVariableFinder"/>).</summary>
        public bool TracksValue { get; internal set; }

        /// <summary>Interned: equal only to itself, hashed by its id.</summary>
        public override int GetHashCode() => Id;

        public override bool Equals(object? obj) => ReferenceEquals(this, obj);

        public override string ToString() => Display;
    }
}
