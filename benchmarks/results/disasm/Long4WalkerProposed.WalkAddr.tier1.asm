; DOTNET_JitDisasm listing, in-process run (-- --inprocess --filter '*ProposedEmission*'): the Tier-1 code of Long4WalkerProposed.WalkAddr.
; Assembly listing for method ShadowMmu.Benchmarks.Proposed.Long4WalkerProposed:WalkAddr(byref,ulong,byte,int,bool):bool:this (Tier1)
; Emitting BLENDED_CODE for generic X64 + VEX + EVEX on Unix
; Tier1 code
; optimized code
; optimized using Dynamic PGO
; rbp based frame
; fully interruptible
; with Dynamic PGO: fgCalledCount is 6581760
; 1 inlinees with PGO data; 70 single block inlinees; 0 inlinees without PGO data

G_M000_IG01:                ;; offset=0x0000
       push     rbp
       push     r15
       push     r14
       push     r13
       push     r12
       push     rbx
       sub      rsp, 136
       lea      rbp, [rsp+0xB0]
       mov      r15, rdi
       mov      rbx, rsi
       mov      r14, rdx
 
G_M000_IG02:                ;; offset=0x0022
       mov      qword ptr [rbx], r14
       xor      edi, edi
       mov      dword ptr [rbx+0xB8], edi
       mov      rdi, r14
       shl      rdi, 16
       sar      rdi, 16
       cmp      rdi, r14
       jne      G_M000_IG17
       movzx    rcx, cl
       cmp      ecx, 1
       sete     r13b
       movzx    r13, r13b
       cmp      ecx, 2
       sete     r12b
       movzx    r12, r12b
       cmp      r8d, 3
       sete     al
       movzx    rax, al
       mov      r8d, r13d
       or       r8d, dword ptr [r15+0x50]
       lea      r10d, [rax+rax]
       or       r8d, r10d
       test     r9b, r9b
       setne    r9b
       movzx    r9, r9b
       mov      r10d, eax
       xor      r10d, 1
       and      r9d, r10d
       shl      r9d, 2
       or       r8d, r9d
       lea      r9d, [8*r12]
       or       r8d, r9d
       mov      dword ptr [rbp-0x2C], r8d
       lea      r9d, [r13+r13]
       shl      eax, 2
       or       eax, r9d
       mov      r9d, eax
       test     r12d, r12d
       jne      G_M000_IG25
 
G_M000_IG03:                ;; offset=0x00B4
       xor      r10d, r10d
 
G_M000_IG04:                ;; offset=0x00B7
       or       r9d, r10d
       mov      dword ptr [rbp-0x30], r9d
       shl      r12d, 4
       or       r12d, eax
       mov      dword ptr [rbp-0x34], r12d
       mov      rax, gword ptr [r15+0x08]
       mov      gword ptr [rbp-0x98], rax
       mov      r10, qword ptr [rax+0x18]
       mov      qword ptr [rbp-0x40], r10
       mov      r11, qword ptr [rax+0x20]
       add      r11, -8
       mov      qword ptr [rbp-0x48], r11
 
G_M000_IG05:                ;; offset=0x00E8
       mov      dword ptr [rbx+0x08], 4
       mov      dword ptr [rbx+0x0C], 4
       xor      ecx, ecx
       mov      dword ptr [rbx+0x90], ecx
 
G_M000_IG06:                ;; offset=0x00FE
       mov      qword ptr [rbx+0x98], rcx
 
G_M000_IG07:                ;; offset=0x0105
       mov      qword ptr [rbx+0xA0], rcx
 
G_M000_IG08:                ;; offset=0x010C
       mov      dword ptr [rbx+0xA8], ecx
       mov      byte  ptr [rbx+0xAC], 0
 
G_M000_IG09:                ;; offset=0x0119
       mov      dword ptr [rbx+0xB0], ecx
       mov      byte  ptr [rbx+0xB4], 0
       mov      rdx, qword ptr [r15+0x10]
       mov      qword ptr [rbp-0x70], -1
       mov      qword ptr [rbp-0x68], -1
       mov      rsi, r14
       shr      rsi, 36
       and      rsi, 0xFF8
       add      rsi, rdx
       cmp      rsi, r11
       ja       G_M000_IG33
       mov      r9, qword ptr [r10+rsi]
       mov      dword ptr [rbx+0x08], 4
       lea      rcx, bword ptr [rbx+0x10]
       mov      bword ptr [rbp-0xA0], rcx
       mov      rdi, rcx
       shr      rdx, 12
       mov      qword ptr [rdi+0x18], rdx
       lea      rdi, bword ptr [rbx+0x38]
       mov      rdx, rdi
       mov      qword ptr [rdx+0x18], rsi
       lea      rdx, bword ptr [rbx+0x60]
       mov      rsi, rdx
       mov      qword ptr [rsi+0x18], r9
       lea      rsi, bword ptr [rbx+0x88]
       mov      bword ptr [rbp-0xA8], rsi
       mov      r12, rsi
       mov      byte  ptr [r12+0x03], 7
       mov      r12, r9
       and      r12, qword ptr [r15+0x48]
       shr      r12, 63
       mov      r8d, r9d
       and      r8d, 6
       or       r8d, 1
       andn     r12d, r12d, r8d
       and      r12d, 7
       test     r9b, 1
       je       G_M000_IG35
       test     r9, qword ptr [r15+0x18]
       jne      G_M000_IG37
       mov      r8, 0xFFFFFFFFFF000
       and      r8, r9
       mov      rsi, r14
       shr      rsi, 27
       and      rsi, 0xFF8
       add      rsi, r8
       cmp      rsi, r11
       ja       G_M000_IG39
       mov      r10, qword ptr [r10+rsi]
       mov      r11, r10
       mov      dword ptr [rbx+0x08], 3
       shr      r8, 12
       mov      qword ptr [rcx+0x10], r8
       mov      rcx, rdi
       mov      qword ptr [rcx+0x10], rsi
       mov      rsi, rdx
       mov      qword ptr [rsi+0x10], r11
       mov      rsi, bword ptr [rbp-0xA8]
       mov      rcx, rsi
 
G_M000_IG10:                ;; offset=0x022A
       mov      byte  ptr [rcx+0x02], r12b
       mov      rcx, r11
       and      rcx, qword ptr [r15+0x48]
       shr      rcx, 63
       mov      r8d, r10d
       and      r8d, 6
       or       r8d, 1
       and      r8d, r12d
       andn     r12d, ecx, r8d
       test     r10b, 1
       je       G_M000_IG41
       test     r10b, 128
       je       G_M000_IG26
       test     r11, qword ptr [r15+0x28]
       jne      G_M000_IG42
       mov      r8d, 3
       mov      ecx, 0x40000000
       mov      rsi, 0xFFFFFC0000000
       and      rsi, r11
       mov      dword ptr [rbp-0x74], r8d
       mov      qword ptr [rbp-0x58], rsi
 
G_M000_IG11:                ;; offset=0x028A
       movzx    rdi, byte  ptr [rbp-0x2C]
       cmp      edi, 256
       jae      G_M000_IG54
       mov      rdx, 0x7FCFB7582308
       movzx    rdi, byte  ptr [rdx+rdi]
       sarx     edi, edi, r12d
       and      edi, 1
       mov      rdx, r11
       shr      rdx, 59
       and      edx, dword ptr [r15+0x60]
       mov      dword ptr [rbp-0x78], edx
       mov      esi, r12d
       and      esi, 4
       add      esi, esi
       or       esi, dword ptr [rbp-0x34]
       mov      dword ptr [rbp-0x7C], esi
       lea      esi, [rdx+rdx]
       shrx     esi, dword ptr [r15+0x5C], esi
       and      esi, 3
       mov      r8d, dword ptr [rbp-0x7C]
       shrx     r8d, dword ptr [r15+0x58], r8d
       test     esi, r8d
       jne      G_M000_IG28
       xor      r8d, r8d
 
G_M000_IG12:                ;; offset=0x02F0
       or       edi, r8d
       jne      G_M000_IG51
 
G_M000_IG13:                ;; offset=0x02F9
       and      r9d, r10d
       and      r9d, dword ptr [rbp-0x68]
       and      r9d, dword ptr [rbp-0x70]
       test     r9b, 32
       je       G_M000_IG32
 
G_M000_IG14:                ;; offset=0x030E
       test     r13d, r13d
       jne      G_M000_IG29
 
G_M000_IG15:                ;; offset=0x0317
       mov      r15d, dword ptr [rbp-0x74]
       mov      dword ptr [rbx+0x08], r15d
       lea      rax, [rcx-0x01]
       and      rax, r14
       or       rax, qword ptr [rbp-0x58]
       mov      qword ptr [rbx+0x98], rax
       mov      qword ptr [rbx+0xA0], rcx
       mov      dword ptr [rbx+0x90], r12d
       mov      edx, dword ptr [rbp-0x78]
       mov      dword ptr [rbx+0xA8], edx
       mov      eax, 1
 
G_M000_IG16:                ;; offset=0x034D
       add      rsp, 136
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       ret      
 
G_M000_IG17:                ;; offset=0x035F
       xor      eax, eax
       mov      dword ptr [rbx+0x08], eax
 
G_M000_IG18:                ;; offset=0x0364
       mov      dword ptr [rbx+0x0C], eax
 
G_M000_IG19:                ;; offset=0x0367
       mov      dword ptr [rbx+0x90], eax
 
G_M000_IG20:                ;; offset=0x036D
       mov      qword ptr [rbx+0x98], rax
 
G_M000_IG21:                ;; offset=0x0374
       mov      qword ptr [rbx+0xA0], rax
 
G_M000_IG22:                ;; offset=0x037B
       mov      dword ptr [rbx+0xA8], eax
       mov      byte  ptr [rbx+0xAC], 0
 
G_M000_IG23:                ;; offset=0x0388
       mov      dword ptr [rbx+0xB0], eax
       mov      byte  ptr [rbx+0xB4], 0
       mov      byte  ptr [rbx+0xAC], 2
 
G_M000_IG24:                ;; offset=0x039C
       mov      dword ptr [rbx+0xB0], eax
       jmp      G_M000_IG52
 
G_M000_IG25:                ;; offset=0x03A7
       mov      r10d, dword ptr [r15+0x54]
       jmp      G_M000_IG04
 
G_M000_IG26:                ;; offset=0x03B0
       test     r10, qword ptr [r15+0x20]
       jne      G_M000_IG42
       mov      r8, 0xFFFFFFFFFF000
       and      r8, r10
       mov      r11, r14
       shr      r11, 18
       and      r11, 0xFF8
       add      r11, r8
       cmp      r11, qword ptr [rbp-0x48]
       ja       G_M000_IG43
       mov      rcx, qword ptr [rbp-0x40]
       mov      rcx, qword ptr [rcx+r11]
       mov      qword ptr [rbp-0x88], rcx
       mov      qword ptr [rbp-0x68], rcx
       mov      dword ptr [rbx+0x08], 2
       mov      rsi, bword ptr [rbp-0xA0]
       shr      r8, 12
       mov      qword ptr [rsi+0x08], r8
       mov      rsi, rdi
       mov      qword ptr [rsi+0x08], r11
       mov      r11, rdx
       mov      qword ptr [r11+0x08], rcx
       mov      rsi, bword ptr [rbp-0xA8]
       mov      r8, rsi
       mov      byte  ptr [r8+0x01], r12b
       mov      r8, rcx
       and      r8, qword ptr [r15+0x48]
       shr      r8, 63
       mov      r11, qword ptr [rbp-0x88]
       and      r11d, 6
       or       r11d, 1
       and      r11d, r12d
       andn     r12d, r8d, r11d
       mov      r11, qword ptr [rbp-0x88]
       test     r11b, 1
       je       G_M000_IG45
       test     r11b, 128
       je       SHORT G_M000_IG27
       test     rcx, qword ptr [r15+0x38]
       jne      G_M000_IG46
       mov      r8d, 2
       mov      r11d, 0x200000
       mov      rsi, 0xFFFFFFFE00000
       and      rsi, rcx
       mov      dword ptr [rbp-0x74], r8d
       mov      qword ptr [rbp-0x58], rsi
       mov      rdx, rcx
       mov      rcx, r11
       mov      r11, rdx
       jmp      G_M000_IG11
 
G_M000_IG27:                ;; offset=0x0499
       mov      rcx, qword ptr [rbp-0x68]
       test     rcx, qword ptr [r15+0x30]
       jne      G_M000_IG46
       mov      r8, 0xFFFFFFFFFF000
       mov      qword ptr [rbp-0x68], rcx
       and      r8, rcx
       mov      r11, r14
       shr      r11, 9
       and      r11, 0xFF8
       add      r11, r8
       cmp      r11, qword ptr [rbp-0x48]
       ja       G_M000_IG47
       mov      rcx, qword ptr [rbp-0x40]
       mov      rcx, qword ptr [rcx+r11]
       mov      qword ptr [rbp-0x90], rcx
       mov      qword ptr [rbp-0x70], rcx
       mov      dword ptr [rbx+0x08], 1
       mov      rsi, bword ptr [rbp-0xA0]
       shr      r8, 12
       mov      qword ptr [rsi], r8
       mov      qword ptr [rdi], r11
       mov      qword ptr [rdx], rcx
       mov      rsi, bword ptr [rbp-0xA8]
       mov      byte  ptr [rsi], r12b
       mov      rdi, rcx
       and      rdi, qword ptr [r15+0x48]
       shr      rdi, 63
       mov      rsi, qword ptr [rbp-0x90]
       mov      edx, esi
       and      edx, 6
       or       edx, 1
       and      edx, r12d
       andn     r12d, edi, edx
       test     sil, 1
       je       G_M000_IG49
       test     rcx, qword ptr [r15+0x40]
       jne      G_M000_IG50
       mov      dword ptr [rbp-0x74], 1
       mov      qword ptr [rbp-0x60], 0x1000
       mov      rsi, 0xFFFFFFFFFF000
       and      rsi, rcx
       mov      qword ptr [rbp-0x58], rsi
       mov      r11, rcx
       mov      rcx, qword ptr [rbp-0x60]
       jmp      G_M000_IG11
 
G_M000_IG28:                ;; offset=0x056D
       mov      r8d, 32
       jmp      G_M000_IG12
 
G_M000_IG29:                ;; offset=0x0578
       test     r11b, 64
       jne      G_M000_IG15
 
G_M000_IG30:                ;; offset=0x0582
       mov      qword ptr [rbp-0x60], rcx
 
G_M000_IG31:                ;; offset=0x0586
       test     r13d, r13d
       setne    cl
       movzx    rcx, cl
       mov      rdi, rax
       mov      rsi, rbx
       mov      edx, dword ptr [rbp-0x74]
       call     [ShadowMmu.Benchmarks.Proposed.Long4WalkerProposed:SetAccessedDirty(ShadowMmu.GuestMemory,byref,int,bool):bool]
       test     eax, eax
       mov      rax, gword ptr [rbp-0x98]
       mov      rcx, qword ptr [rbp-0x60]
       mov      r10, qword ptr [rbp-0x40]
       mov      r11, qword ptr [rbp-0x48]
       je       G_M000_IG05
       jmp      G_M000_IG15
 
G_M000_IG32:                ;; offset=0x05BE
       mov      qword ptr [rbp-0x60], rcx
       jmp      SHORT G_M000_IG31
 
G_M000_IG33:                ;; offset=0x05C4
       mov      r9d, dword ptr [rbp-0x30]
       mov      rdi, rbx
       mov      r8d, r9d
       mov      rcx, rsi
       mov      esi, 4
 
G_M000_IG34:                ;; offset=0x05D6
       add      rsp, 136
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG35:                ;; offset=0x05ED
       mov      dword ptr [rbx+0x08], 4
 
G_M000_IG36:                ;; offset=0x05F4
       mov      byte  ptr [rbx+0xAC], 1
       mov      r15d, dword ptr [rbp-0x30]
       mov      dword ptr [rbx+0xB0], r15d
       jmp      G_M000_IG52
 
G_M000_IG37:                ;; offset=0x060B
       mov      dword ptr [rbx+0x08], 4
 
G_M000_IG38:                ;; offset=0x0612
       mov      byte  ptr [rbx+0xAC], 1
       mov      r15d, dword ptr [rbp-0x30]
       mov      edi, r15d
       or       edi, 9
       mov      dword ptr [rbx+0xB0], edi
       jmp      G_M000_IG52
 
G_M000_IG39:                ;; offset=0x062E
       mov      qword ptr [rbp-0x50], r8
       mov      rdi, rbx
       mov      r8d, dword ptr [rbp-0x30]
       mov      rdx, qword ptr [rbp-0x50]
       mov      rcx, rsi
       mov      esi, 3
 
G_M000_IG40:                ;; offset=0x0645
       add      rsp, 136
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG41:                ;; offset=0x065C
       mov      dword ptr [rbx+0x08], 3
       jmp      SHORT G_M000_IG36
 
G_M000_IG42:                ;; offset=0x0665
       mov      dword ptr [rbx+0x08], 3
       jmp      SHORT G_M000_IG38
 
G_M000_IG43:                ;; offset=0x066E
       mov      qword ptr [rbp-0x50], r8
       mov      rdi, rbx
       mov      r8d, dword ptr [rbp-0x30]
       mov      rdx, qword ptr [rbp-0x50]
       mov      rcx, r11
       mov      esi, 2
 
G_M000_IG44:                ;; offset=0x0685
       add      rsp, 136
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG45:                ;; offset=0x069C
       mov      dword ptr [rbx+0x08], 2
       jmp      G_M000_IG36
 
G_M000_IG46:                ;; offset=0x06A8
       mov      dword ptr [rbx+0x08], 2
       jmp      G_M000_IG38
 
G_M000_IG47:                ;; offset=0x06B4
       mov      qword ptr [rbp-0x50], r8
       mov      rdi, rbx
       mov      r8d, dword ptr [rbp-0x30]
       mov      rdx, qword ptr [rbp-0x50]
       mov      rcx, r11
       mov      esi, 1
 
G_M000_IG48:                ;; offset=0x06CB
       add      rsp, 136
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG49:                ;; offset=0x06E2
       mov      dword ptr [rbx+0x08], 1
       jmp      G_M000_IG36
 
G_M000_IG50:                ;; offset=0x06EE
       mov      dword ptr [rbx+0x08], 1
       jmp      G_M000_IG38
 
G_M000_IG51:                ;; offset=0x06FA
       mov      r15d, dword ptr [rbp-0x74]
       mov      dword ptr [rbx+0x08], r15d
       mov      byte  ptr [rbx+0xAC], 1
       mov      r15d, dword ptr [rbp-0x30]
       or       r15d, 1
       or       r8d, r15d
       mov      dword ptr [rbx+0xB0], r8d
 
G_M000_IG52:                ;; offset=0x071B
       xor      eax, eax
 
G_M000_IG53:                ;; offset=0x071D
       add      rsp, 136
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       ret      
 
G_M000_IG54:                ;; offset=0x072F
       call     CORINFO_HELP_RNGCHKFAIL
       int3     
 
; Total bytes of code 1845

