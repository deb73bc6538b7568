using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using ShadowMmu.Benchmarks.Walks;

namespace ShadowMmu.Benchmarks.Reporting;

/// <summary>
/// The results as one SVG, written by hand: a panel per case (rows) and pattern (columns), a bar per implementation,
/// dark for serialized walks and light for independent ones, each panel on its own linear scale; below, the fault path
/// per mode against its 150 ns target.
/// </summary>
internal static class SvgChart
{
    private const int PanelWidth = 410, LabelWidth = 78, BarHeight = 8, BarGap = 2, GroupGap = 5, PanelTitle = 18, Margin = 20;
    private static readonly string[] Colors = { "#1f5fa8", "#c0392b", "#e67e22", "#27ae60", "#555555", "#9a9a20" };

    public static string Write(ResultSet r)
    {
        var impls = MarkdownReport.Implementations;
        string[] patterns = Enum.GetNames<WalkPattern>();
        int groupHeight = (2 * BarHeight) + BarGap + GroupGap;
        int panelHeight = PanelTitle + (impls.Length * groupHeight) + 6;
        int top = 92;
        int width = (2 * Margin) + (patterns.Length * PanelWidth);
        int faultTop = top + (WalkCase.All.Count * panelHeight) + 30;
        int faultHeight = WalkCase.Modes.Count * 58;
        int height = faultTop + faultHeight + 40;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"10\">");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Margin}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Guest page walk, ns per walk (median): generated C# against the interpreter, C, and the memory floor</text>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Margin}\" y=\"42\" fill=\"#444\">{Escape(r.Processor)} · {Escape(r.Runtime)} · BenchmarkDotNet {Escape(r.BenchmarkDotNet)} · {r.Written:yyyy-MM-dd} · dark = serialized (latency), light = independent (throughput); each panel has its own scale; a bar cut by » runs off it</text>");
        for (int i = 0; i < impls.Length; i++)
        {
            int x = Margin + (i * 150);
            svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"52\" width=\"12\" height=\"10\" fill=\"{Colors[i]}\"/><rect x=\"{x + 13}\" y=\"52\" width=\"12\" height=\"10\" fill=\"{Colors[i]}\" fill-opacity=\"0.4\"/><text x=\"{x + 30}\" y=\"61\">{Escape(impls[i].Title)}</text>");
        }

        for (int p = 0; p < patterns.Length; p++)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Margin + (p * PanelWidth) + (PanelWidth / 2)}\" y=\"84\" font-size=\"13\" font-weight=\"bold\" text-anchor=\"middle\">{patterns[p]}</text>");
        }

        for (int row = 0; row < WalkCase.All.Count; row++)
        {
            WalkCase c = WalkCase.All[row];
            for (int p = 0; p < patterns.Length; p++)
            {
                int x0 = Margin + (p * PanelWidth), y0 = top + (row * panelHeight);
                double?[,] v = new double?[impls.Length, 2];
                for (int i = 0; i < impls.Length; i++)
                {
                    v[i, 0] = r.Median("WalkBenchmarks", impls[i].Method, ("Case", c.Name), ("Pattern", patterns[p]), ("Dependency", "Serialized"));
                    v[i, 1] = r.Median("WalkBenchmarks", impls[i].Method, ("Case", c.Name), ("Pattern", patterns[p]), ("Dependency", "Independent"));
                }

                // The scale: the largest bar other than the reference walker's, which may run off it.
                double max = 0;
                for (int i = 0; i < impls.Length; i++)
                {
                    for (int d = 0; d < 2; d++)
                    {
                        if (impls[i].Method != "Reference" && v[i, d] is double value)
                        {
                            max = Math.Max(max, value);
                        }
                    }
                }

                svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x0 + 2}\" y=\"{y0}\" width=\"{PanelWidth - 8}\" height=\"{panelHeight - 4}\" fill=\"#f7f7f7\" stroke=\"#ddd\"/>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 + 8}\" y=\"{y0 + 13}\" font-weight=\"bold\">{c.Name}</text>");
                if (max <= 0)
                {
                    svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 + 120}\" y=\"{y0 + 13}\" fill=\"#999\">not measured</text>");
                    continue;
                }

                double scale = (PanelWidth - LabelWidth - 70) / (max * 1.05);
                for (int i = 0; i < impls.Length; i++)
                {
                    int gy = y0 + PanelTitle + (i * groupHeight);
                    svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 + LabelWidth - 4}\" y=\"{gy + BarHeight + 3}\" text-anchor=\"end\" fill=\"#333\">{Escape(impls[i].Title)}</text>");
                    for (int d = 0; d < 2; d++)
                    {
                        if (v[i, d] is not double value)
                        {
                            continue;
                        }

                        int by = gy + (d * (BarHeight + BarGap));
                        double w = value * scale;
                        bool cut = w > PanelWidth - LabelWidth - 60;
                        if (cut)
                        {
                            w = PanelWidth - LabelWidth - 60;
                        }

                        string opacity = d == 0 ? "1" : "0.4";
                        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x0 + LabelWidth}\" y=\"{by}\" width=\"{w:0.0}\" height=\"{BarHeight}\" fill=\"{Colors[i]}\" fill-opacity=\"{opacity}\"/>");
                        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 + LabelWidth + w + 3:0.0}\" y=\"{by + BarHeight - 1}\" font-size=\"8\" fill=\"#222\">{(cut ? "» " : "")}{ResultSet.Ns(value)}</text>");
                    }
                }
            }
        }

        WriteFaults(svg, r, faultTop, width);
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static void WriteFaults(StringBuilder svg, ResultSet r, int top, int width)
    {
        (string Method, string Title, string Color)[] bars =
        {
            ("Walk", "guest walk", "#1f5fa8"), ("Fetch", "Fetch", "#27ae60"), ("Fault", "whole fault (walk + fetch + prefetch)", "#8e44ad"),
            ("InvlpgAndAccess", "INVLPG + access (vCPU)", "#7f8c8d"),
        };
        IReadOnlyList<string> modes = WalkCase.Modes;
        double max = 160;
        foreach (string mode in modes)
        {
            foreach (var bar in bars)
            {
                max = Math.Max(max, r.Median("FaultBenchmarks", bar.Method, ("Mode", mode)) ?? 0);
            }
        }

        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Margin}\" y=\"{top - 8}\" font-size=\"14\" font-weight=\"bold\">Shadow fault path, ns per operation (median); dashed line: the 150 ns target for a whole fault</text>");
        int x0 = Margin + 80, plotWidth = width - x0 - 120;
        double scale = plotWidth / (max * 1.05);
        for (int m = 0; m < modes.Count; m++)
        {
            int y0 = top + (m * 58);
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Margin}\" y=\"{y0 + 24}\" font-weight=\"bold\">{modes[m]}</text>");
            for (int b = 0; b < bars.Length; b++)
            {
                double? value = r.Median("FaultBenchmarks", bars[b].Method, ("Mode", modes[m]));
                if (value == null)
                {
                    continue;
                }

                int y = y0 + (b * 12);
                double w = value.Value * scale;
                svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x0}\" y=\"{y}\" width=\"{w:0.0}\" height=\"10\" fill=\"{bars[b].Color}\"/>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 + w + 4:0.0}\" y=\"{y + 9}\" font-size=\"9\">{Escape(bars[b].Title)}: {ResultSet.Ns(value)} ns</text>");
            }
        }

        double target = x0 + (150 * scale);
        svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{target:0.0}\" y1=\"{top - 2}\" x2=\"{target:0.0}\" y2=\"{top + (modes.Count * 58) - 6}\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/>");
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
