namespace ShadowMmu.Dumps;

/// <summary>The words MemoryDump.Description is made of.</summary>
internal static class DumpDescription
{
    public static string Machine(DumpMachine machine) => machine switch
    {
        DumpMachine.X86_64 => "EM_X86_64",
        DumpMachine.I386 => "EM_386",
        _ => $"e_machine {(ushort)machine}",
    };

    public static string Cpus(int cpus) => cpus == 1 ? "1 CPU" : $"{cpus} CPUs";
}
