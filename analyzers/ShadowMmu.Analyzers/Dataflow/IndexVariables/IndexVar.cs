using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.Locations;

namespace ShadowMmu.Analyzers.Dataflow.IndexVariables
{
    /// <summary>
    /// An integer variable that indexes are expressed in: a local, a parameter or a field path (<see cref="Path"/>), or the
    /// index of one site that the analysis cannot follow (<see cref="Site"/>), which names a different element each time
    /// the site runs. Interned by <see cref="IndexVarTable"/>: one object per variable.
    /// </summary>
    internal sealed class IndexVar
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

        /// <summary>For the unknown index of a site: that site.</summary>
        public TextSpan Site { get; }

        public string Display { get; }

        public override string ToString() => Display;
    }
}
