using System;
using System.IO;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>Where the repository and the build configuration of this test assembly are.</summary>
    internal static class RepositoryPaths
    {
        public static string Root { get; } = FindRoot();

        /// <summary>Debug or Release: the configuration this test assembly was built in (bin/CONFIG/net10.0).</summary>
        public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Debug";

        private static string FindRoot()
        {
            for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Generated.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("Generated.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
