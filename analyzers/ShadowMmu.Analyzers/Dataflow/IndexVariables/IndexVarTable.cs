using System.Collections.Generic;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.Locations;

namespace ShadowMmu.Analyzers.Dataflow.IndexVariables
{
    /// <summary>Interns the index variables of one analysis, and remembers which ones some index was ever expressed in.</summary>
    internal sealed class IndexVarTable
    {
        private readonly Dictionary<AccessPath, IndexVar> _byPath = new();
        private readonly Dictionary<TextSpan, IndexVar> _bySite = new();
        private readonly List<IndexVar> _all = new();
        private readonly Dictionary<int, List<IndexVar>> _byRoot = new();
        private readonly HashSet<IndexVar> _mentioned = new();

        /// <summary>The variable that the integer at <paramref name="path"/> is.</summary>
        public IndexVar For(AccessPath path)
        {
            if (!_byPath.TryGetValue(path, out IndexVar? var))
            {
                _byPath[path] = var = new IndexVar(_all.Count, path, default, path.Display);
                _all.Add(var);
                if (!_byRoot.TryGetValue(path.RootId, out List<IndexVar>? list))
                {
                    _byRoot[path.RootId] = list = new List<IndexVar>();
                }

                list.Add(var);
            }

            return var;
        }

        /// <summary>
        /// The variable for the index at <paramref name="index"/> that the analysis cannot follow (shown as its code, or as
        /// <paramref name="display"/>: <c>?</c> for the element a foreach is at).
        /// </summary>
        public IndexVar ForSite(Microsoft.CodeAnalysis.SyntaxNode index, string? display = null)
        {
            TextSpan site = index.Span;
            if (!_bySite.TryGetValue(site, out IndexVar? var))
            {
                _bySite[site] = var = new IndexVar(_all.Count, null, site, display ?? AnalysisTables.Text(index));
                _all.Add(var);
            }

            return var;
        }

        public bool TryGet(AccessPath path, out IndexVar var) => _byPath.TryGetValue(path, out var!);

        /// <summary>The variable with id <paramref name="id"/>.</summary>
        public IndexVar this[int id] => _all[id];

        /// <summary>The variables that are locations under the root of <paramref name="path"/> (the root itself included).</summary>
        public IReadOnlyList<IndexVar> UnderRoot(AccessPath path) =>
            _byRoot.TryGetValue(path.RootId, out List<IndexVar>? list) ? list : (IReadOnlyList<IndexVar>)System.Array.Empty<IndexVar>();

        /// <summary>Records that some path, value or origin is expressed in the index variables of <paramref name="path"/>.</summary>
        public void Mention(AccessPath path)
        {
            for (AccessPath p = path; p.Parent != null; p = p.Parent)
            {
                if (p.Last.IsIndex && p.Last.Index.Var is IndexVar var)
                {
                    _mentioned.Add(var);
                }
            }
        }

        public void Mention(IndexVar var) => _mentioned.Add(var);

        /// <summary>Whether anything was ever expressed in <paramref name="var"/> (when not, changing it rewrites nothing).</summary>
        public bool IsMentioned(IndexVar var) => _mentioned.Contains(var);
    }
}
