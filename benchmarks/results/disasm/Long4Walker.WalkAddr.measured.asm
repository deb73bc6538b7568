; BenchmarkDotNet DisassemblyDiagnoser export (-- --disasm --filter '*ProposedEmission*'), benchmark ProposedEmissionBenchmarks.Generated [Case=long4-4K, Dependency=Serialized]:
; the Tier-1 code (dynamic PGO) of the emitted Long4Walker.WalkAddr as the measured process ran it.
; ShadowMmu.Long4Walker.WalkAddr(ShadowMmu.GuestWalk ByRef, UInt64, ShadowMmu.AccessKind, Int32, Boolean)
       push      rbp
       push      r15
       push      r14
       push      r13
       push      r12
       push      rbx
       sub       rsp,38
       lea       rbp,[rsp+60]
       mov       r15,rdi
       mov       rbx,rsi
       mov       r14,rdx
       mov       [rbx],r14
       xor       edi,edi
       mov       [rbx+0B8],edi
       mov       [rbx+8],edi
       mov       [rbx+0C],edi
       mov       [rbx+90],edi
       mov       [rbx+98],rdi
       mov       [rbx+0A0],rdi
       mov       [rbx+0A8],edi
       mov       byte ptr [rbx+0AC],0
       mov       [rbx+0B0],edi
       mov       byte ptr [rbx+0B4],0
       mov       rdi,r14
       shl       rdi,10
       sar       rdi,10
       cmp       rdi,r14
       jne       near ptr M01_L25
       cmp       cl,1
       sete      r13b
       movzx     r13d,r13b
       mov       r12d,r13d
       cmp       cl,2
       sete      al
       movzx     eax,al
       mov       [rbp-2C],eax
       cmp       r8d,3
       sete      r10b
       movzx     r10d,r10b
       mov       [rbp-30],r10d
       or        r13d,[r15+50]
       mov       r11d,2
       xor       r8d,r8d
       test      r10d,r10d
       cmove     r11d,r8d
       or        r13d,r11d
       test      r9b,r9b
       jne       near ptr M01_L26
M01_L00:
       xor       r11d,r11d
M01_L01:
       or        r13d,r11d
       mov       r11d,8
       xor       r8d,r8d
       test      eax,eax
       cmove     r11d,r8d
       or        r13d,r11d
       mov       [rbp-34],r13d
       mov       r11d,2
       test      r12d,r12d
       cmove     r11d,r8d
       mov       r9d,4
       test      r10d,r10d
       cmove     r9d,r8d
       or        r11d,r9d
       test      eax,eax
       jne       near ptr M01_L27
       xor       r9d,r9d
M01_L02:
       or        r11d,r9d
       mov       [rbp-38],r11d
M01_L03:
       mov       dword ptr [rbx+8],4
       mov       dword ptr [rbx+0C],4
       xor       r8d,r8d
       mov       [rbx+90],r8d
       mov       [rbx+98],r8
       mov       [rbx+0A0],r8
       mov       [rbx+0A8],r8d
       mov       byte ptr [rbx+0AC],0
       mov       [rbx+0B0],r8d
       mov       byte ptr [rbx+0B4],0
       mov       rdx,[r15+10]
       mov       rcx,r14
       shr       rcx,24
       and       rcx,0FF8
       add       rcx,rdx
       mov       r8,[r15+8]
       mov       rdi,[r8+20]
       cmp       rcx,rdi
       jae       near ptr M01_L30
       sub       rdi,rcx
       cmp       rdi,8
       jb        near ptr M01_L28
       test      cl,7
       jne       near ptr M01_L31
       mov       r8,[r8+18]
       mov       r8,[r8+rcx]
M01_L04:
       mov       dword ptr [rbx+8],4
       lea       rdi,[rbx+10]
       mov       rsi,rdi
       shr       rdx,0C
       mov       [rsi+18],rdx
       lea       rsi,[rbx+38]
       mov       rdx,rsi
       mov       [rdx+18],rcx
       lea       r9,[rbx+60]
       mov       [rbp-60],r9
       mov       rcx,r9
       mov       [rcx+18],r8
       lea       rcx,[rbx+88]
       mov       rdx,rcx
       mov       byte ptr [rdx+3],7
       mov       rdx,r8
       and       rdx,[r15+48]
       shr       rdx,3F
       mov       r11d,r8d
       and       r11d,6
       or        r11d,1
       andn      edx,edx,r11d
       and       edx,7
       test      r8b,1
       je        near ptr M01_L61
       test      [r15+18],r8
       jne       near ptr M01_L63
       mov       r11,0FFFFFFFFFF000
       and       r11,r8
       mov       r8,r14
       shr       r8,1B
       and       r8,0FF8
       add       r8,r11
       mov       r13,[r15+8]
       mov       rax,[r13+20]
       cmp       r8,rax
       jae       near ptr M01_L34
       sub       rax,r8
       cmp       rax,8
       jb        near ptr M01_L32
       test      r8b,7
       jne       near ptr M01_L35
       mov       rax,[r13+18]
       mov       rax,[rax+r8]
M01_L05:
       mov       dword ptr [rbx+8],3
       mov       r13,rdi
       shr       r11,0C
       mov       [r13+10],r11
       mov       r11,rsi
       mov       [r11+10],r8
       mov       r8,r9
       mov       [r8+10],rax
       mov       r8,rcx
       mov       [r8+2],dl
       mov       r8,rax
       and       r8,[r15+48]
       shr       r8,3F
       mov       r11d,eax
       and       r11d,6
       or        r11d,1
       and       edx,r11d
       andn      edx,r8d,edx
       mov       r13d,edx
       test      al,1
       je        near ptr M01_L65
       test      al,80
       jne       near ptr M01_L22
       test      [r15+20],rax
       jne       near ptr M01_L40
       mov       r11,0FFFFFFFFFF000
       and       r11,rax
       mov       r8,r14
       shr       r8,12
       and       r8,0FF8
       add       r8,r11
       mov       rdx,r8
       mov       rax,[r15+8]
       mov       r8,[rax+20]
       cmp       rdx,r8
       jae       near ptr M01_L39
       sub       r8,rdx
       cmp       r8,8
       jb        near ptr M01_L37
       test      dl,7
       jne       near ptr M01_L41
       mov       rax,[rax+18]
       mov       rax,[rax+rdx]
M01_L06:
       mov       dword ptr [rbx+8],2
       mov       r8,rdi
       shr       r11,0C
       mov       [r8+8],r11
       mov       r8,rsi
       mov       [r8+8],rdx
       mov       rdx,r9
       mov       [rdx+8],rax
       mov       r8,rcx
       mov       [r8+1],r13b
       mov       r8,rax
       and       r8,[r15+48]
       shr       r8,3F
       mov       edx,eax
       and       edx,6
       or        edx,1
       and       edx,r13d
       andn      r13d,r8d,edx
       test      al,1
       je        near ptr M01_L67
       test      al,80
       jne       near ptr M01_L42
       test      [r15+30],rax
       jne       near ptr M01_L68
       mov       r11,0FFFFFFFFFF000
       and       r11,rax
       mov       rdx,r14
       shr       rdx,9
       and       rdx,0FF8
       add       rdx,r11
       mov       rax,[r15+8]
       mov       r8,[rax+20]
       cmp       rdx,r8
       jae       near ptr M01_L45
       sub       r8,rdx
       cmp       r8,8
       jb        near ptr M01_L43
       test      dl,7
       jne       near ptr M01_L46
       mov       rax,[rax+18]
       mov       rax,[rax+rdx]
M01_L07:
       mov       dword ptr [rbx+8],1
       mov       r8,r11
       shr       r8,0C
       mov       [rdi],r8
       mov       [rsi],rdx
       mov       r8,r9
       mov       [r8],rax
       mov       [rcx],r13b
       mov       r8,rax
       and       r8,[r15+48]
       shr       r8,3F
       mov       edi,eax
       and       edi,6
       or        edi,1
       and       edi,r13d
       andn      r13d,r8d,edi
       test      al,1
       je        near ptr M01_L69
       test      [r15+40],rax
       jne       near ptr M01_L70
       mov       ecx,1
       mov       esi,1000
       mov       rdi,0FFFFFFFFFF000
       and       rdi,rax
M01_L08:
       mov       r11d,[rbp-34]
       cmp       r11d,100
       jae       near ptr M01_L73
       mov       r8d,r11d
       mov       rdx,7F352DE0E160
       movzx     r8d,byte ptr [rdx+r8]
       sarx      r8d,r8d,r13d
       and       r8d,1
       mov       edx,[r15+58]
       test      edx,edx
       je        near ptr M01_L23
       shr       rax,3B
       and       eax,0F
M01_L09:
       test      r12d,r12d
       jne       near ptr M01_L47
       xor       r11d,r11d
M01_L10:
       test      r10d,r10d
       je        near ptr M01_L24
       mov       [rbp-48],rdi
       mov       edi,4
M01_L11:
       or        edi,r11d
       cmp       dword ptr [rbp-2C],0
       jne       near ptr M01_L48
       xor       r11d,r11d
M01_L12:
       or        edi,r11d
       test      r13b,4
       je        near ptr M01_L49
       mov       r11d,8
M01_L13:
       or        edi,r11d
       mov       [rbp-58],eax
       lea       r11d,[rax+rax]
       shrx      r11d,[r15+5C],r11d
       and       r11d,3
       shrx      edi,edx,edi
       test      edi,r11d
       jne       near ptr M01_L50
       xor       r11d,r11d
M01_L14:
       or        r8d,r11d
       jne       near ptr M01_L71
       mov       rdx,[r15+8]
       mov       r8,r9
       mov       r11,[r8+18]
       test      r11b,20
       je        near ptr M01_L51
M01_L15:
       mov       rdx,[r15+8]
       mov       [rbp-54],ecx
       cmp       ecx,3
       sete      r8b
       movzx     r8d,r8b
       test      r12d,r8d
       jne       near ptr M01_L52
       mov       r8d,20
M01_L16:
       mov       r8d,r8d
       mov       r9,[rbp-60]
       mov       rdi,r9
       mov       r11,[rdi+10]
       mov       rdi,r11
       and       rdi,r8
       cmp       rdi,r8
       jne       near ptr M01_L53
M01_L17:
       mov       ecx,[rbp-54]
       cmp       ecx,2
       jg        short M01_L19
       mov       rdx,[r15+8]
       mov       [rbp-54],ecx
       cmp       ecx,2
       sete      r8b
       movzx     r8d,r8b
       test      r12d,r8d
       jne       near ptr M01_L54
       mov       r8d,20
M01_L18:
       mov       r8d,r8d
       mov       r9,[rbp-60]
       mov       rdi,r9
       mov       r11,[rdi+8]
       mov       rdi,r11
       and       rdi,r8
       cmp       rdi,r8
       jne       near ptr M01_L55
       mov       ecx,[rbp-54]
M01_L19:
       mov       [rbp-54],ecx
       cmp       ecx,1
       jne       short M01_L21
       mov       rdx,[r15+8]
       test      r12d,r12d
       jne       near ptr M01_L56
       mov       r8d,20
M01_L20:
       mov       r8d,r8d
       mov       r9,[rbp-60]
       mov       r9,[r9]
       mov       rdi,r9
       and       rdi,r8
       cmp       rdi,r8
       jne       near ptr M01_L57
M01_L21:
       mov       ecx,[rbp-54]
       mov       [rbx+8],ecx
       lea       rcx,[rsi-1]
       and       rcx,r14
       or        rcx,[rbp-48]
       mov       [rbx+98],rcx
       mov       [rbx+0A0],rsi
       mov       [rbx+90],r13d
       mov       eax,[rbp-58]
       mov       [rbx+0A8],eax
       mov       eax,1
       add       rsp,38
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       ret
M01_L22:
       test      [r15+28],rax
       jne       near ptr M01_L36
       mov       dword ptr [rbp-54],3
       mov       qword ptr [rbp-50],40000000
       mov       rdi,0FFFFFC0000000
       and       rdi,rax
       mov       [rbp-48],rdi
       mov       ecx,[rbp-54]
       mov       rsi,[rbp-50]
       mov       rdi,[rbp-48]
       jmp       near ptr M01_L08
M01_L23:
       xor       eax,eax
       jmp       near ptr M01_L09
M01_L24:
       mov       [rbp-48],rdi
       xor       edi,edi
       jmp       near ptr M01_L11
M01_L25:
       mov       byte ptr [rbx+0AC],2
       xor       eax,eax
       mov       [rbx+0B0],eax
       jmp       near ptr M01_L72
M01_L26:
       test      r10d,r10d
       jne       near ptr M01_L00
       mov       r11d,4
       jmp       near ptr M01_L01
M01_L27:
       mov       r9d,[r15+54]
       jmp       near ptr M01_L02
M01_L28:
       mov       r11d,[rbp-38]
M01_L29:
       mov       rdi,rbx
       mov       r8d,r11d
       mov       esi,4
       add       rsp,38
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       jmp       qword ptr [7F34B0195350]
M01_L30:
       mov       r11d,[rbp-38]
       jmp       short M01_L29
M01_L31:
       mov       r8,[r8+18]
       mov       r8,[r8+rcx]
       jmp       near ptr M01_L04
M01_L32:
       mov       [rbp-40],r8
       mov       r15d,[rbp-38]
M01_L33:
       mov       rdi,rbx
       mov       r8d,r15d
       mov       rdx,r11
       mov       rcx,[rbp-40]
       mov       esi,3
       add       rsp,38
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       jmp       qword ptr [7F34B0195350]
M01_L34:
       mov       [rbp-40],r8
       mov       r15d,[rbp-38]
       jmp       short M01_L33
M01_L35:
       mov       rax,[r13+18]
       mov       rax,[rax+r8]
       jmp       near ptr M01_L05
M01_L36:
       mov       r15d,[rbp-38]
       jmp       near ptr M01_L66
M01_L37:
       mov       [rbp-40],rdx
M01_L38:
       mov       rdi,rbx
       mov       r8d,[rbp-38]
       mov       rdx,r11
       mov       rcx,[rbp-40]
       mov       esi,2
       add       rsp,38
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       jmp       qword ptr [7F34B0195350]
M01_L39:
       mov       [rbp-40],rdx
       jmp       short M01_L38
M01_L40:
       mov       r15d,[rbp-38]
       jmp       near ptr M01_L66
M01_L41:
       mov       r8,[rax+18]
       mov       rax,[r8+rdx]
       jmp       near ptr M01_L06
M01_L42:
       test      [r15+38],rax
       jne       near ptr M01_L68
       mov       ecx,2
       mov       esi,200000
       mov       rdi,0FFFFFFFE00000
       and       rdi,rax
       jmp       near ptr M01_L08
M01_L43:
       mov       [rbp-40],rdx
M01_L44:
       mov       rdi,rbx
       mov       r8d,[rbp-38]
       mov       rdx,r11
       mov       rcx,[rbp-40]
       mov       esi,1
       add       rsp,38
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       jmp       qword ptr [7F34B0195350]
M01_L45:
       mov       [rbp-40],rdx
       jmp       short M01_L44
M01_L46:
       mov       r8,[rax+18]
       mov       rax,[r8+rdx]
       jmp       near ptr M01_L07
M01_L47:
       mov       r11d,2
       jmp       near ptr M01_L10
M01_L48:
       mov       r11d,10
       jmp       near ptr M01_L12
M01_L49:
       xor       r11d,r11d
       jmp       near ptr M01_L13
M01_L50:
       mov       r11d,20
       jmp       near ptr M01_L14
M01_L51:
       mov       [rbp-54],ecx
       mov       [rbp-50],rsi
       mov       r8,r11
       or        r8,20
       mov       rdi,rbx
       mov       rsi,rdx
       mov       rcx,r11
       mov       edx,4
       mov       r9d,8
       call      qword ptr [7F34B01954B8]; ShadowMmu.GuestWalk.TrySetFlagsSlow(ShadowMmu.GuestMemory, Int32, UInt64, UInt64, Int32)
       test      eax,eax
       mov       ecx,[rbp-54]
       mov       rsi,[rbp-50]
       je        near ptr M01_L60
       jmp       near ptr M01_L15
M01_L52:
       mov       r8d,60
       jmp       near ptr M01_L16
M01_L53:
       mov       [rbp-50],rsi
       or        r8,r11
       mov       rdi,rbx
       mov       rsi,rdx
       mov       rcx,r11
       mov       edx,3
       mov       r9d,8
       call      qword ptr [7F34B01954B8]; ShadowMmu.GuestWalk.TrySetFlagsSlow(ShadowMmu.GuestMemory, Int32, UInt64, UInt64, Int32)
       test      eax,eax
       mov       rsi,[rbp-50]
       je        near ptr M01_L59
       jmp       near ptr M01_L17
M01_L54:
       mov       r8d,60
       jmp       near ptr M01_L18
M01_L55:
       mov       [rbp-50],rsi
       or        r8,r11
       mov       rdi,rbx
       mov       rsi,rdx
       mov       rcx,r11
       mov       edx,2
       mov       r9d,8
       call      qword ptr [7F34B01954B8]; ShadowMmu.GuestWalk.TrySetFlagsSlow(ShadowMmu.GuestMemory, Int32, UInt64, UInt64, Int32)
       test      eax,eax
       mov       ecx,[rbp-54]
       mov       rsi,[rbp-50]
       je        short M01_L58
       jmp       near ptr M01_L19
M01_L56:
       mov       r8d,60
       jmp       near ptr M01_L20
M01_L57:
       mov       [rbp-50],rsi
       or        r8,r9
       mov       rdi,rbx
       mov       rsi,rdx
       mov       rcx,r9
       mov       edx,1
       mov       r9d,8
       call      qword ptr [7F34B01954B8]; ShadowMmu.GuestWalk.TrySetFlagsSlow(ShadowMmu.GuestMemory, Int32, UInt64, UInt64, Int32)
       test      eax,eax
       mov       rsi,[rbp-50]
       mov       r10d,[rbp-30]
       je        near ptr M01_L03
       jmp       near ptr M01_L21
M01_L58:
       mov       r10d,[rbp-30]
       jmp       near ptr M01_L03
M01_L59:
       mov       r10d,[rbp-30]
       jmp       near ptr M01_L03
M01_L60:
       mov       r10d,[rbp-30]
       jmp       near ptr M01_L03
M01_L61:
       mov       dword ptr [rbx+8],4
M01_L62:
       mov       byte ptr [rbx+0AC],1
       mov       r15d,[rbp-38]
       mov       [rbx+0B0],r15d
       jmp       short M01_L72
M01_L63:
       mov       dword ptr [rbx+8],4
M01_L64:
       mov       byte ptr [rbx+0AC],1
       mov       r15d,[rbp-38]
       mov       edi,r15d
       or        edi,9
       mov       [rbx+0B0],edi
       jmp       short M01_L72
M01_L65:
       mov       r15d,[rbp-38]
       mov       dword ptr [rbx+8],3
       jmp       short M01_L62
M01_L66:
       mov       dword ptr [rbx+8],3
       jmp       short M01_L64
M01_L67:
       mov       dword ptr [rbx+8],2
       jmp       short M01_L62
M01_L68:
       mov       dword ptr [rbx+8],2
       jmp       short M01_L64
M01_L69:
       mov       dword ptr [rbx+8],1
       jmp       short M01_L62
M01_L70:
       mov       dword ptr [rbx+8],1
       jmp       short M01_L64
M01_L71:
       mov       [rbx+8],ecx
       mov       byte ptr [rbx+0AC],1
       mov       r15d,[rbp-38]
       mov       r8d,r15d
       or        r8d,1
       or        r8d,r11d
       mov       [rbx+0B0],r8d
M01_L72:
       xor       eax,eax
       add       rsp,38
       pop       rbx
       pop       r12
       pop       r13
       pop       r14
       pop       r15
       pop       rbp
       ret
M01_L73:
       call      CORINFO_HELP_RNGCHKFAIL
       int       3
; Total bytes of code 2390
```
```assembly
; ShadowMmu.GuestWalk.TrySetFlagsSlow(ShadowMmu.GuestMemory, Int32, UInt64, UInt64, Int32)
       push      rbp
       sub       rsp,80
       lea       rbp,[rsp+80]
       vxorps    xmm8,xmm8,xmm8
       vmovdqu32 [rbp-80],zmm8
       vmovdqa   xmmword ptr [rbp-40],xmm8
       mov       [rbp-8],rdi
       mov       [rbp-10],rsi
       mov       [rbp-14],edx
       mov       [rbp-20],rcx
       mov       [rbp-28],r8
       mov       [rbp-2C],r9d
       mov       rax,[rbp-8]
       cmp       [rax],al
       mov       rax,[rbp-8]
       lea       rdi,[rax+38]
       mov       esi,5
       call      qword ptr [7F34B01953E0]; <PrivateImplementationDetails>.InlineArrayAsSpan[[ShadowMmu.LevelValues, ShadowMmu],[System.UInt64, System.Private.CoreLib]](ShadowMmu.LevelValues ByRef, Int32)
       mov       [rbp-68],rax
       mov       [rbp-60],rdx
       vmovdqu   xmm0,xmmword ptr [rbp-68]
       vmovdqu   xmmword ptr [rbp-48],xmm0
       mov       eax,[rbp-14]
       dec       eax
       cmp       eax,[rbp-40]
       jae       near ptr M02_L03
       mov       eax,[rbp-14]
       dec       eax
       mov       eax,eax
       mov       rcx,[rbp-48]
       mov       rax,[rcx+rax*8]
       mov       [rbp-38],rax
       cmp       dword ptr [rbp-2C],4
       je        short M02_L00
       mov       rdi,[rbp-10]
       mov       rsi,[rbp-38]
       mov       rdx,[rbp-20]
       mov       rcx,[rbp-28]
       cmp       [rdi],edi
       call      qword ptr [7F34B01954D0]; ShadowMmu.GuestMemory.TryCompareExchangeUInt64(UInt64, UInt64, UInt64)
       mov       [rbp-6C],eax
       jmp       short M02_L01
M02_L00:
       mov       rdi,[rbp-10]
       mov       rsi,[rbp-38]
       mov       edx,[rbp-20]
       mov       ecx,[rbp-28]
       cmp       [rdi],edi
       call      qword ptr [7F34B01954E8]
       mov       [rbp-6C],eax
M02_L01:
       cmp       dword ptr [rbp-6C],0
       jne       short M02_L02
       xor       eax,eax
       add       rsp,80
       pop       rbp
       ret
M02_L02:
       mov       rax,[rbp-8]
       cmp       [rax],al
       mov       rax,[rbp-8]
       lea       rdi,[rax+60]
       mov       esi,5
       call      qword ptr [7F34B01953E0]; <PrivateImplementationDetails>.InlineArrayAsSpan[[ShadowMmu.LevelValues, ShadowMmu],[System.UInt64, System.Private.CoreLib]](ShadowMmu.LevelValues ByRef, Int32)
       mov       [rbp-80],rax
       mov       [rbp-78],rdx
       vmovdqu   xmm0,xmmword ptr [rbp-80]
       vmovdqu   xmmword ptr [rbp-58],xmm0
       mov       eax,[rbp-14]
       dec       eax
       cmp       eax,[rbp-50]
       jae       short M02_L03
       mov       eax,[rbp-14]
       dec       eax
       mov       eax,eax
       mov       rcx,[rbp-58]
       mov       rdx,[rbp-28]
       mov       [rcx+rax*8],rdx
       mov       rdi,[rbp-8]
       mov       rsi,[rbp-38]
       mov       rdx,[rbp-20]
       mov       rcx,[rbp-28]
       call      qword ptr [7F34B0195500]; ShadowMmu.GuestWalk.NoteUpdate(UInt64, UInt64, UInt64)
       mov       eax,1
       add       rsp,80
       pop       rbp
       ret
M02_L03:
       call      CORINFO_HELP_RNGCHKFAIL
       int       3
; Total bytes of code 323
```
```assembly
; <PrivateImplementationDetails>.InlineArrayAsSpan[[ShadowMmu.LevelValues, ShadowMmu],[System.UInt64, System.Private.CoreLib]](ShadowMmu.LevelValues ByRef, Int32)
       mov       rax,rdi
       mov       rdx,rsi
       ret
; Total bytes of code 7
```
```assembly
; ShadowMmu.GuestMemory.TryCompareExchangeUInt64(UInt64, UInt64, UInt64)
       push      rbp
       sub       rsp,20
       lea       rbp,[rsp+20]
       mov       [rbp-8],rdi
       mov       [rbp-10],rsi
       mov       [rbp-18],rdx
       mov       [rbp-20],rcx
       mov       eax,[rbp-10]
       and       eax,7
       test      eax,eax
       jne       short M04_L00
       mov       rdi,[rbp-8]
       mov       rsi,[rbp-10]
       mov       edx,8
       call      qword ptr [7F34B00FFD08]; ShadowMmu.GuestMemory.Contains(UInt64, UInt64)
       test      eax,eax
       jne       short M04_L01
M04_L00:
       xor       eax,eax
       add       rsp,20
       pop       rbp
       ret
M04_L01:
       mov       rax,[rbp-8]
       mov       rax,[rax+18]
       mov       rcx,rax
       add       rcx,[rbp-10]
       mov       rdx,[rbp-20]
       mov       rax,[rbp-18]
       lock cmpxchg [rcx],rdx
       cmp       rax,[rbp-18]
       sete      al
       movzx     eax,al
       add       rsp,20
       pop       rbp
       ret
; Total bytes of code 111
```
```assembly
; ShadowMmu.GuestWalk.NoteUpdate(UInt64, UInt64, UInt64)
       push      rbp
       sub       rsp,120
       lea       rbp,[rsp+120]
       xor       eax,eax
       mov       [rbp-118],rax
       vxorps    xmm8,xmm8,xmm8
       vmovdqu32 [rbp-110],zmm8
       vmovdqu32 [rbp-0D0],zmm8
       vmovdqu32 [rbp-90],zmm8
       mov       [rbp-50],rax
       mov       [rbp-30],rdi
       mov       [rbp-38],rsi
       mov       [rbp-40],rdx
       mov       [rbp-48],rcx
       mov       dword ptr [rbp-120],3E8
       xor       eax,eax
       mov       [rbp-4C],eax
       jmp       near ptr M05_L02
M05_L00:
       mov       rax,[rbp-30]
       cmp       [rax],al
       mov       rax,[rbp-30]
       lea       rdi,[rax+0C0]
       mov       esi,8
       call      qword ptr [7F34B0195560]; <PrivateImplementationDetails>.InlineArrayAsSpan[[ShadowMmu.PteUpdates, ShadowMmu],[ShadowMmu.PteUpdate, ShadowMmu]](ShadowMmu.PteUpdates ByRef, Int32)
       mov       [rbp-0C0],rax
       mov       [rbp-0B8],rdx
       vmovdqu32 xmm0,[rbp-0C0]
       vmovdqu   xmmword ptr [rbp-60],xmm0
       mov       eax,[rbp-58]
       cmp       [rbp-4C],eax
       jae       near ptr M05_L05
       mov       rax,[rbp-60]
       mov       ecx,[rbp-4C]
       lea       rcx,[rcx+rcx*2]
       lea       rdi,[rax+rcx*8]
       call      qword ptr [7F34B0195578]
       cmp       rax,[rbp-38]
       jne       near ptr M05_L01
       mov       rdi,7F34B0189AA8
       call      CORINFO_HELP_COUNTPROFILE32
       mov       rax,[rbp-30]
       cmp       [rax],al
       mov       rax,[rbp-30]
       lea       rdi,[rax+0C0]
       mov       esi,8
       call      qword ptr [7F34B0195560]; <PrivateImplementationDetails>.InlineArrayAsSpan[[ShadowMmu.PteUpdates, ShadowMmu],[ShadowMmu.PteUpdate, ShadowMmu]](ShadowMmu.PteUpdates ByRef, Int32)
       mov       [rbp-0D0],rax
       mov       [rbp-0C8],rdx
       vmovdqu32 xmm0,[rbp-0D0]
       vmovdqu   xmmword ptr [rbp-70],xmm0
       mov       eax,[rbp-68]
       cmp       [rbp-4C],eax
       jae       near ptr M05_L05
       mov       eax,[rbp-4C]
       lea       rax,[rax+rax*2]
       mov       rcx,[rbp-70]
       lea       rax,[rcx+rax*8]
       mov       [rbp-0E8],rax
       mov       rax,[rbp-30]
       cmp       [rax],al
       mov       rax,[rbp-30]
       lea       rdi,[rax+0C0]
       mov       esi,8
       call      qword ptr [7F34B0195560]; <PrivateImplementationDetails>.InlineArrayAsSpan[[ShadowMmu.PteUpdates, ShadowMmu],[ShadowMmu.PteUpdate, ShadowMmu]](ShadowMmu.PteUpdates ByRef, Int32)
       mov       [rbp-0E0],rax
       mov       [rbp-0D8],rdx
       vmovdqu32 xmm0,[rbp-0E0]
       vmovdqu   xmmword ptr [rbp-98],xmm0
       mov       eax,[rbp-90]
       cmp       [rbp-4C],eax
       jae       near ptr M05_L05
       mov       eax,[rbp-4C]
       lea       rax,[rax+rax*2]
       mov       rcx,[rbp-98]
       vmovdqu   xmm0,xmmword ptr [rcx+rax*8]
       vmovdqu   xmmword ptr [rbp-88],xmm0
       mov       rdx,[rcx+rax*8+10]
       mov       [rbp-78],rdx
       lea       rdi,[rbp-88]
       mov       rsi,[rbp-48]
       call      qword ptr [7F34B0195590]
       mov       rax,[rbp-0E8]
       vmovdqu   xmm0,xmmword ptr [rbp-88]
       vmovdqu   xmmword ptr [rax],xmm0
       mov       rcx,[rbp-78]
       mov       [rax+10],rcx
       add       rsp,120
       pop       rbp
       ret
M05_L01:
       mov       rdi,7F34B0189AAC
       call      CORINFO_HELP_COUNTPROFILE32
       mov       eax,[rbp-4C]
       inc       eax
       mov       [rbp-4C],eax
M05_L02:
       mov       eax,[rbp-120]
       dec       eax
       mov       [rbp-120],eax
       cmp       dword ptr [rbp-120],0
       jg        short M05_L03
       lea       rdi,[rbp-120]
       mov       esi,65
       call      CORINFO_HELP_PATCHPOINT
M05_L03:
       mov       rax,[rbp-30]
       mov       eax,[rax+0B8]
       cmp       eax,[rbp-4C]
       jg        near ptr M05_L00
       mov       rax,[rbp-30]
       cmp       dword ptr [rax+0B8],8
       jge       near ptr M05_L04
       mov       rdi,7F34B0189AB0
       call      CORINFO_HELP_COUNTPROFILE32
       mov       rax,[rbp-30]
       cmp       [rax],al
       mov       rax,[rbp-30]
       lea       rdi,[rax+0C0]
       mov       esi,8
       call      qword ptr [7F34B0195560]; <PrivateImplementationDetails>.InlineArrayAsSpan[[ShadowMmu.PteUpdates, ShadowMmu],[ShadowMmu.PteUpdate, ShadowMmu]](ShadowMmu.PteUpdates ByRef, Int32)
       mov       [rbp-0F8],rax
       mov       [rbp-0F0],rdx
       vmovdqu   xmm0,xmmword ptr [rbp-0F8]
       vmovdqu   xmmword ptr [rbp-0A8],xmm0
       mov       rax,[rbp-30]
       mov       eax,[rax+0B8]
       mov       [rbp-0AC],eax
       mov       eax,[rbp-0AC]
       inc       eax
       mov       rcx,[rbp-30]
       mov       [rcx+0B8],eax
       vxorps    xmm0,xmm0,xmm0
       vmovdqu32 [rbp-110],xmm0
       vmovdqu   xmmword ptr [rbp-108],xmm0
       mov       eax,[rbp-0A0]
       cmp       [rbp-0AC],eax
       jae       short M05_L05
       mov       eax,[rbp-0AC]
       lea       rax,[rax+rax*2]
       mov       rcx,[rbp-0A8]
       lea       rax,[rcx+rax*8]
       mov       [rbp-118],rax
       lea       rdi,[rbp-110]
       mov       rsi,[rbp-38]
       mov       rdx,[rbp-40]
       mov       rcx,[rbp-48]
       call      qword ptr [7F34B01955A8]; ShadowMmu.PteUpdate..ctor(UInt64, UInt64, UInt64)
       mov       rax,[rbp-118]
       vmovdqu32 xmm0,[rbp-110]
       vmovdqu   xmmword ptr [rax],xmm0
       mov       rcx,[rbp-100]
       mov       [rax+10],rcx
M05_L04:
       mov       rdi,7F34B0189AB4
       call      CORINFO_HELP_COUNTPROFILE32
       nop
       add       rsp,120
       pop       rbp
       ret
M05_L05:
       call      CORINFO_HELP_RNGCHKFAIL
       int       3
; Total bytes of code 813
```

