; BenchmarkDotNet DisassemblyDiagnoser export, benchmark ProposedEmissionBenchmarks.Proposed [Case=long4-4K, Dependency=Serialized]:
; the Tier-1 code (dynamic PGO) of Long4WalkerProposed.WalkAddr (the proposed emission) and its out-of-line A/D helper.
; ShadowMmu.Benchmarks.Proposed.Long4WalkerProposed.WalkAddr(ShadowMmu.GuestWalk ByRef, UInt64, ShadowMmu.AccessKind, Int32, Boolean)
       push      rbp
       push      r15
       push      r14
       push      r13
       push      r12
       push      rbx
       sub       rsp,68
       lea       rbp,[rsp+90]
       mov       r15,rdi
       mov       rbx,rsi
       mov       r14,rdx
       mov       [rbx],r14
       xor       edi,edi
       mov       [rbx+0B8],edi
       mov       rdi,r14
       shl       rdi,10
       sar       rdi,10
       cmp       rdi,r14
       jne       near ptr M01_L06
       cmp       cl,1
       sete      r13b
       movzx     r13d,r13b
       mov       [rbp-2C],r13d
       cmp       cl,2
       sete      r12b
       movzx     r12d,r12b
       cmp       r8d,3
       sete      al
       movzx     eax,al
       mov       r8d,r13d
       or        r8d,[r15+50]
       lea       r10d,[rax+rax]
       or        r8d,r10d
       test      r9b,r9b
       setne     r9b
       movzx     r9d,r9b
       mov       r10d,eax
       xor       r10d,1
       and       r9d,r10d
       shl       r9d,2
       or        r8d,r9d
       lea       r9d,[r12*8]
       or        r8d,r9d
       mov       [rbp-30],r8d
       lea       r9d,[r13+r13]
       shl       eax,2
       or        eax,r9d
       mov       r9d,eax
       test      r12d,r12d
       jne       near ptr M01_L07
       xor       r10d,r10d
M01_L00:
       or        r9d,r10d
       mov       [rbp-34],r9d
       shl       r12d,4
       or        r12d,eax
       mov       [rbp-38],r12d
       mov       rax,[r15+8]
       mov       [rbp-78],rax
       mov       r10,[rax+18]
       mov       [rbp-40],r10
       mov       r11,[rax+20]
       add       r11,0FFFFFFFFFFFFFFF8
       mov       [rbp-48],r11
M01_L01:
       mov       dword ptr [rbx+8],4
       mov       dword ptr [rbx+0C],4
       xor       ecx,ecx
       mov       [rbx+90],ecx
       mov       [rbx+98],rcx
       mov       [rbx+0A0],rcx
       mov       [rbx+0A8],ecx
       mov       byte ptr [rbx+0AC],0
       mov       [rbx+0B0],ecx
       mov       byte ptr [rbx+0B4],0
       mov       rdx,[r15+10]
       mov       qword ptr [rbp-68],0FFFFFFFFFFFFFFFF
       mov       rdi,0FFFFFFFFFFFFFFFF
       mov       rsi,r14
       shr       rsi,24
       and       rsi,0FF8
       add       rsi,rdx
       cmp       rsi,r11
       ja        near ptr M01_L13
       mov       r9,[r10+rsi]
       mov       dword ptr [rbx+8],4
       lea       r12,[rbx+10]
       mov       [rbp-80],r12
       mov       r8,r12
       shr       rdx,0C
       mov       [r8+18],rdx
       lea       rdx,[rbx+38]
       mov       r8,rdx
       mov       [r8+18],rsi
       lea       r8,[rbx+60]
       mov       rsi,r8
       mov       [rsi+18],r9
       lea       rsi,[rbx+88]
       mov       [rbp-88],rsi
       mov       rax,rsi
       mov       byte ptr [rax+3],7
       mov       rax,r9
       and       rax,[r15+48]
       shr       rax,3F
       mov       ecx,r9d
       and       ecx,6
       or        ecx,1
       andn      ecx,eax,ecx
       and       ecx,7
       test      r9b,1
       je        near ptr M01_L14
       test      [r15+18],r9
       jne       near ptr M01_L16
       mov       rax,0FFFFFFFFFF000
       and       rax,r9
       mov       r13,r14
       shr       r13,1B
       and       r13,0FF8
       add       r13,rax
       cmp       r13,r11
       ja        near ptr M01_L18
       mov       r10,[r10+r13]
       mov       r11,r10
       mov       dword ptr [rbx+8],3
       shr       rax,0C
       mov       [r12+10],rax
       mov       rax,rdx
       mov       [rax+10],r13
       mov       rax,r8
       mov       [rax+10],r11
       mov       rax,rsi
       mov       [rax+2],cl
       mov       rax,r11
       and       rax,[r15+48]
       shr       rax,3F
       mov       r13d,r10d
       and       r13d,6
       or        r13d,1
       and       ecx,r13d
       andn      ecx,eax,ecx
       mov       r13d,ecx
       test      r10b,1
       je        near ptr M01_L19
       test      r10b,80
       jne       near ptr M01_L05
       test      [r15+20],r10
       jne       near ptr M01_L20
       mov       rax,0FFFFFFFFFF000
       and       rax,r10
       mov       rdi,r14
       shr       rdi,12
       and       rdi,0FF8
       add       rdi,rax
       cmp       rdi,[rbp-48]
       ja        near ptr M01_L21
       mov       rcx,[rbp-40]
       mov       r11,[rcx+rdi]
       mov       rcx,r11
       mov       r12,rcx
       mov       dword ptr [rbx+8],2
       mov       rsi,[rbp-80]
       shr       rax,0C
       mov       [rsi+8],rax
       mov       rsi,rdx
       mov       [rsi+8],rdi
       mov       rdi,r8
       mov       [rdi+8],r12
       mov       rsi,[rbp-88]
       mov       rdi,rsi
       mov       [rdi+1],r13b
       mov       rdi,r12
       and       rdi,[r15+48]
       shr       rdi,3F
       mov       eax,r11d
       and       eax,6
       or        eax,1
       and       eax,r13d
       andn      r13d,edi,eax
       test      r11b,1
       je        near ptr M01_L22
       test      r11b,80
       jne       near ptr M01_L08
       test      [r15+30],rcx
       jne       near ptr M01_L23
       mov       rax,0FFFFFFFFFF000
       and       rax,rcx
       mov       rdi,r14
       shr       rdi,9
       and       rdi,0FF8
       add       rdi,rax
       mov       r11,rdi
       cmp       r11,[rbp-48]
       ja        near ptr M01_L24
       mov       rdi,[rbp-40]
       mov       r12,[rdi+r11]
       mov       rdi,r12
       mov       [rbp-68],rdi
       mov       rsi,rdi
       mov       dword ptr [rbx+8],1
       mov       rdi,[rbp-80]
       shr       rax,0C
       mov       [rdi],rax
       mov       [rdx],r11
       mov       [r8],rsi
       mov       rdi,[rbp-88]
       mov       [rdi],r13b
       mov       rdi,rsi
       and       rdi,[r15+48]
       shr       rdi,3F
       mov       edx,r12d
       and       edx,6
       or        edx,1
       and       edx,r13d
       andn      r13d,edi,edx
       test      r12b,1
       je        near ptr M01_L25
       test      [r15+40],rsi
       jne       near ptr M01_L26
       mov       r12d,1
       mov       eax,1000
       mov       r8,0FFFFFFFFFF000
       and       r8,rsi
       mov       [rbp-58],r8
M01_L02:
       movzx     edi,byte ptr [rbp-30]
       cmp       edi,100
       jae       near ptr M01_L29
       mov       rdx,7F3AF80357A0
       movzx     edi,byte ptr [rdx+rdi]
       sarx      edi,edi,r13d
       and       edi,1
       mov       rdx,rsi
       shr       rdx,3B
       and       edx,[r15+60]
       mov       [rbp-6C],edx
       mov       r11d,r13d
       and       r11d,4
       add       r11d,r11d
       or        r11d,[rbp-38]
       lea       r8d,[rdx+rdx]
       shrx      r8d,[r15+5C],r8d
       and       r8d,3
       shrx      r11d,[r15+58],r11d
       test      r11d,r8d
       jne       near ptr M01_L09
       xor       r8d,r8d
M01_L03:
       or        edi,r8d
       jne       near ptr M01_L27
       and       r9d,r10d
       and       ecx,r9d
       and       ecx,[rbp-68]
       test      cl,20
       je        near ptr M01_L12
       mov       r8d,[rbp-2C]
       test      r8d,r8d
       jne       near ptr M01_L10
M01_L04:
       mov       [rbx+8],r12d
       lea       rdi,[rax-1]
       and       rdi,r14
       or        rdi,[rbp-58]
       mov       [rbx+98],rdi
       mov       [rbx+0A0],rax
       mov       [rbx+90],r13d
       mov       edx,[rbp-6C]
       mov       [rbx+0A8],edx
       mov       eax,1
       add       rsp,68
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       ret
M01_L05:
       test      [r15+28],r11
       jne       near ptr M01_L20
       mov       edx,3
       mov       qword ptr [rbp-60],40000000
       mov       r8,0FFFFFC0000000
       and       r8,r11
       mov       [rbp-58],r8
       mov       rcx,rdi
       mov       rsi,r11
       mov       r12d,edx
       mov       rax,[rbp-60]
       jmp       near ptr M01_L02
M01_L06:
       xor       eax,eax
       mov       [rbx+8],eax
       mov       [rbx+0C],eax
       mov       [rbx+90],eax
       mov       [rbx+98],rax
       mov       [rbx+0A0],rax
       mov       [rbx+0A8],eax
       mov       byte ptr [rbx+0AC],0
       mov       [rbx+0B0],eax
       mov       byte ptr [rbx+0B4],0
       mov       byte ptr [rbx+0AC],2
       mov       [rbx+0B0],eax
       jmp       near ptr M01_L28
M01_L07:
       mov       r10d,[r15+54]
       jmp       near ptr M01_L00
M01_L08:
       test      [r15+38],r12
       jne       near ptr M01_L23
       mov       edx,2
       mov       eax,200000
       mov       r8,0FFFFFFFE00000
       and       r8,r12
       mov       [rbp-58],r8
       mov       rsi,r12
       mov       r12d,edx
       jmp       near ptr M01_L02
M01_L09:
       mov       r8d,20
       jmp       near ptr M01_L03
M01_L10:
       test      sil,40
       jne       near ptr M01_L04
       mov       [rbp-60],rax
M01_L11:
       cmp       dword ptr [rbp-2C],0
       setne     cl
       movzx     ecx,cl
       mov       rdi,[rbp-78]
       mov       rsi,rbx
       mov       edx,r12d
       call      qword ptr [7F3AFA7B5650]; ShadowMmu.Benchmarks.Proposed.Long4WalkerProposed.SetAccessedDirty(ShadowMmu.GuestMemory, ShadowMmu.GuestWalk ByRef, Int32, Boolean)
       test      eax,eax
       mov       rax,[rbp-60]
       mov       r10,[rbp-40]
       mov       r11,[rbp-48]
       je        near ptr M01_L01
       jmp       near ptr M01_L04
M01_L12:
       mov       [rbp-60],rax
       jmp       short M01_L11
M01_L13:
       mov       r9d,[rbp-34]
       mov       rdi,rbx
       mov       r8d,r9d
       mov       rcx,rsi
       mov       esi,4
       add       rsp,68
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       jmp       qword ptr [7F3AFA7B5350]
M01_L14:
       mov       dword ptr [rbx+8],4
M01_L15:
       mov       byte ptr [rbx+0AC],1
       mov       r15d,[rbp-34]
       mov       [rbx+0B0],r15d
       jmp       near ptr M01_L28
M01_L16:
       mov       dword ptr [rbx+8],4
M01_L17:
       mov       byte ptr [rbx+0AC],1
       mov       r15d,[rbp-34]
       mov       edi,r15d
       or        edi,9
       mov       [rbx+0B0],edi
       jmp       near ptr M01_L28
M01_L18:
       mov       rdi,rbx
       mov       r8d,[rbp-34]
       mov       rdx,rax
       mov       rcx,r13
       mov       esi,3
       add       rsp,68
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       jmp       qword ptr [7F3AFA7B5350]
M01_L19:
       mov       dword ptr [rbx+8],3
       jmp       short M01_L15
M01_L20:
       mov       dword ptr [rbx+8],3
       jmp       short M01_L17
M01_L21:
       mov       [rbp-50],rdi
       mov       rdi,rbx
       mov       r8d,[rbp-34]
       mov       rdx,rax
       mov       rcx,[rbp-50]
       mov       esi,2
       add       rsp,68
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       jmp       qword ptr [7F3AFA7B5350]
M01_L22:
       mov       dword ptr [rbx+8],2
       jmp       near ptr M01_L15
M01_L23:
       mov       dword ptr [rbx+8],2
       jmp       near ptr M01_L17
M01_L24:
       mov       rdi,rbx
       mov       r8d,[rbp-34]
       mov       rdx,rax
       mov       rcx,r11
       mov       esi,1
       add       rsp,68
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       jmp       qword ptr [7F3AFA7B5350]
M01_L25:
       mov       dword ptr [rbx+8],1
       jmp       near ptr M01_L15
M01_L26:
       mov       dword ptr [rbx+8],1
       jmp       near ptr M01_L17
M01_L27:
       mov       [rbx+8],r12d
       mov       byte ptr [rbx+0AC],1
       mov       r15d,[rbp-34]
       or        r15d,1
       or        r8d,r15d
       mov       [rbx+0B0],r8d
M01_L28:
       xor       eax,eax
       add       rsp,68
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       ret
M01_L29:
       call      CORINFO_HELP_RNGCHKFAIL
       int       3
; Total bytes of code 1747
```
```assembly
; ShadowMmu.Benchmarks.Proposed.Long4WalkerProposed.SetAccessedDirty(ShadowMmu.GuestMemory, ShadowMmu.GuestWalk ByRef, Int32, Boolean)
       push      rbp
       sub       rsp,0B0
       lea       rbp,[rsp+0B0]
       xor       eax,eax
       mov       [rbp-0A8],rax
       vxorps    xmm8,xmm8,xmm8
       vmovdqu32 [rbp-0A0],zmm8
       vmovdqu32 [rbp-60],zmm8
       mov       [rbp-20],rax
       mov       [rbp-8],rdi
       mov       [rbp-10],rsi
       mov       [rbp-14],edx
       mov       [rbp-18],ecx
       mov       rdi,[rbp-10]
       mov       rsi,[rbp-8]
       mov       edx,4
       mov       ecx,20
       mov       r8d,8
       call      qword ptr [7F3AFA7B53B0]; ShadowMmu.GuestWalk.TrySetFlags(ShadowMmu.GuestMemory, Int32, UInt64, Int32)
       test      eax,eax
       je        near ptr M02_L08
       mov       rax,[rbp-10]
       mov       [rbp-20],rax
       mov       rax,[rbp-8]
       mov       [rbp-28],rax
       mov       dword ptr [rbp-2C],3
       movzx     eax,byte ptr [rbp-18]
       cmp       dword ptr [rbp-14],3
       sete      cl
       movzx     ecx,cl
       and       eax,ecx
       test      eax,eax
       jne       short M02_L00
       mov       rax,[rbp-20]
       mov       [rbp-38],rax
       mov       rax,[rbp-28]
       mov       [rbp-40],rax
       mov       eax,[rbp-2C]
       mov       [rbp-44],eax
       mov       dword ptr [rbp-48],20
       jmp       short M02_L01
M02_L00:
       mov       rax,[rbp-20]
       mov       [rbp-38],rax
       mov       rax,[rbp-28]
       mov       [rbp-40],rax
       mov       eax,[rbp-2C]
       mov       [rbp-44],eax
       mov       dword ptr [rbp-48],60
M02_L01:
       mov       ecx,[rbp-48]
       mov       rdi,[rbp-38]
       mov       rsi,[rbp-40]
       mov       edx,[rbp-44]
       mov       r8d,8
       call      qword ptr [7F3AFA7B53B0]; ShadowMmu.GuestWalk.TrySetFlags(ShadowMmu.GuestMemory, Int32, UInt64, Int32)
       test      eax,eax
       je        near ptr M02_L08
       cmp       dword ptr [rbp-14],2
       jg        near ptr M02_L04
       mov       rax,[rbp-10]
       mov       [rbp-80],rax
       mov       rax,[rbp-8]
       mov       [rbp-88],rax
       mov       dword ptr [rbp-8C],2
       movzx     eax,byte ptr [rbp-18]
       cmp       dword ptr [rbp-14],2
       sete      cl
       movzx     ecx,cl
       and       eax,ecx
       test      eax,eax
       jne       short M02_L02
       mov       rax,[rbp-80]
       mov       [rbp-98],rax
       mov       rax,[rbp-88]
       mov       [rbp-0A0],rax
       mov       eax,[rbp-8C]
       mov       [rbp-0A4],eax
       mov       dword ptr [rbp-0A8],20
       jmp       short M02_L03
M02_L02:
       mov       rax,[rbp-80]
       mov       [rbp-98],rax
       mov       rax,[rbp-88]
       mov       [rbp-0A0],rax
       mov       eax,[rbp-8C]
       mov       [rbp-0A4],eax
       mov       dword ptr [rbp-0A8],60
M02_L03:
       mov       ecx,[rbp-0A8]
       mov       rdi,[rbp-98]
       mov       rsi,[rbp-0A0]
       mov       edx,[rbp-0A4]
       mov       r8d,8
       call      qword ptr [7F3AFA7B53B0]; ShadowMmu.GuestWalk.TrySetFlags(ShadowMmu.GuestMemory, Int32, UInt64, Int32)
       test      eax,eax
       je        near ptr M02_L08
M02_L04:
       cmp       dword ptr [rbp-14],1
       jne       near ptr M02_L07
       mov       rax,[rbp-10]
       mov       [rbp-50],rax
       mov       rax,[rbp-8]
       mov       [rbp-58],rax
       mov       dword ptr [rbp-5C],1
       movzx     eax,byte ptr [rbp-18]
       test      eax,eax
       jne       short M02_L05
       mov       rax,[rbp-50]
       mov       [rbp-68],rax
       mov       rax,[rbp-58]
       mov       [rbp-70],rax
       mov       eax,[rbp-5C]
       mov       [rbp-74],eax
       mov       dword ptr [rbp-78],20
       jmp       short M02_L06
M02_L05:
       mov       rax,[rbp-50]
       mov       [rbp-68],rax
       mov       rax,[rbp-58]
       mov       [rbp-70],rax
       mov       eax,[rbp-5C]
       mov       [rbp-74],eax
       mov       dword ptr [rbp-78],60
M02_L06:
       mov       ecx,[rbp-78]
       mov       rdi,[rbp-68]
       mov       rsi,[rbp-70]
       mov       edx,[rbp-74]
       mov       r8d,8
       call      qword ptr [7F3AFA7B53B0]; ShadowMmu.GuestWalk.TrySetFlags(ShadowMmu.GuestMemory, Int32, UInt64, Int32)
       nop
       add       rsp,0B0
       pop       rbp
       ret
M02_L07:
       mov       eax,1
       add       rsp,0B0
       pop       rbp
       ret
M02_L08:
       xor       eax,eax
       add       rsp,0B0
       pop       rbp
       ret
; Total bytes of code 606
```
```assembly
; ShadowMmu.GuestWalk.TrySetFlags(ShadowMmu.GuestMemory, Int32, UInt64, Int32)
       push      rbp
       sub       rsp,50
       lea       rbp,[rsp+50]
       vxorps    xmm8,xmm8,xmm8
       vmovdqu   ymmword ptr [rbp-50],ymm8
       xor       eax,eax
       mov       [rbp-30],rax
       mov       [rbp-8],rdi
       mov       [rbp-10],rsi
       mov       [rbp-14],edx
       mov       [rbp-20],rcx
       mov       [rbp-24],r8d
       mov       rax,[rbp-8]
       cmp       [rax],al
       mov       rax,[rbp-8]
       lea       rdi,[rax+60]
       mov       esi,5
       call      qword ptr [7F3AFA7B53E0]; <PrivateImplementationDetails>.InlineArrayAsSpan[[ShadowMmu.LevelValues, ShadowMmu],[System.UInt64, System.Private.CoreLib]](ShadowMmu.LevelValues ByRef, Int32)
       mov       [rbp-50],rax
       mov       [rbp-48],rdx
       vmovdqu   xmm0,xmmword ptr [rbp-50]
       vmovdqu   xmmword ptr [rbp-40],xmm0
       mov       eax,[rbp-14]
       dec       eax
       cmp       eax,[rbp-38]
       jae       short M03_L01
       mov       eax,[rbp-14]
       dec       eax
       mov       eax,eax
       mov       rcx,[rbp-40]
       mov       rax,[rcx+rax*8]
       mov       [rbp-30],rax
       mov       rax,[rbp-30]
       and       rax,[rbp-20]
       cmp       rax,[rbp-20]
       jne       short M03_L00
       mov       eax,1
       add       rsp,50
       pop       rbp
       ret
M03_L00:
       mov       rax,[rbp-30]
       mov       r8,rax
       or        r8,[rbp-20]
       mov       rdi,[rbp-8]
       mov       rsi,[rbp-10]
       mov       edx,[rbp-14]
       mov       rcx,[rbp-30]
       mov       r9d,[rbp-24]
       call      qword ptr [7F3AFA7B54B8]; ShadowMmu.GuestWalk.TrySetFlagsSlow(ShadowMmu.GuestMemory, Int32, UInt64, UInt64, Int32)
       nop
       add       rsp,50
       pop       rbp
       ret
M03_L01:
       call      CORINFO_HELP_RNGCHKFAIL
       int       3
; Total bytes of code 191
```

