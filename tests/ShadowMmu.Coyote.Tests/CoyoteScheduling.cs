using CoyotePoint = Microsoft.Coyote.Runtime.SchedulingPoint;

namespace ShadowMmu.Coyote.Tests;

/// <summary>
/// The shadow MMU's scheduling seam (<see cref="ISchedulingPoints"/>) handed to Coyote: each hook point is a place
/// where Coyote's scheduler may run another controlled operation, each wait loop yields to the others. The MMU is not
/// rewritten: its threads here are this assembly's controlled tasks, and its spin waits would otherwise spin while
/// Coyote holds back the thread they wait for.
/// </summary>
internal sealed class CoyoteScheduling : ISchedulingPoints
{
    public void At(SchedulingPoint point) => CoyotePoint.Interleave();

    public void Spin() => CoyotePoint.Yield();
}
