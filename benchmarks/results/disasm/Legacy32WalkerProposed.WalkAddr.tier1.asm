; DOTNET_JitDisasm listing, in-process run (-- --inprocess --filter '*ProposedEmission*'): the Tier-1 code of Legacy32WalkerProposed.WalkAddr.
; Assembly listing for method ShadowMmu.Benchmarks.Proposed.Legacy32WalkerProposed:WalkAddr(byref,ulong,byte,int,bool):bool:this (Tier1)
; Emitting BLENDED_CODE for generic X64 + VEX + EVEX on Unix
; Tier1 code
; optimized code
; optimized using Dynamic PGO
; rbp based frame
; fully interruptible
; with Dynamic PGO: fgCalledCount is 5905920
; 1 inlinees with PGO data; 37 single block inlinees; 0 inlinees without PGO data

G_M000_IG01:                ;; offset=0x0000
       push     rbp
       push     r15
       push     r14
       push     r13
       push     r12
       push     rbx
       sub      rsp, 88
       lea      rbp, [rsp+0x80]
       mov      r14, rdi
       mov      rbx, rsi
       mov      r15, rdx
 
G_M000_IG02:                ;; offset=0x001F
       mov      r15d, r15d
       mov      qword ptr [rbx], r15
       xor      edi, edi
       mov      dword ptr [rbx+0xB8], edi
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
       or       r8d, dword ptr [r14+0x30]
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
       shl      r12d, 3
       or       r12d, r8d
       mov      dword ptr [rbp-0x2C], r12d
       lea      r8d, [r13+r13]
       shl      eax, 2
       or       eax, r8d
       cmp      ecx, 2
       je       G_M000_IG16
 
G_M000_IG03:                ;; offset=0x0099
       xor      r8d, r8d
 
G_M000_IG04:                ;; offset=0x009C
       or       eax, r8d
       mov      dword ptr [rbp-0x30], eax
       mov      r8, gword ptr [r14+0x08]
       mov      gword ptr [rbp-0x60], r8
       mov      r9, qword ptr [r8+0x18]
       mov      qword ptr [rbp-0x38], r9
       mov      r10, qword ptr [r8+0x20]
       add      r10, -4
       mov      qword ptr [rbp-0x40], r10
 
G_M000_IG05:                ;; offset=0x00BE
       mov      dword ptr [rbx+0x08], 2
       mov      dword ptr [rbx+0x0C], 2
       xor      ecx, ecx
       mov      dword ptr [rbx+0x90], ecx
 
G_M000_IG06:                ;; offset=0x00D4
       mov      qword ptr [rbx+0x98], rcx
 
G_M000_IG07:                ;; offset=0x00DB
       mov      qword ptr [rbx+0xA0], rcx
 
G_M000_IG08:                ;; offset=0x00E2
       mov      dword ptr [rbx+0xA8], ecx
       mov      byte  ptr [rbx+0xAC], 0
 
G_M000_IG09:                ;; offset=0x00EF
       mov      dword ptr [rbx+0xB0], ecx
       mov      byte  ptr [rbx+0xB4], 0
       mov      rdx, qword ptr [r14+0x10]
       mov      rcx, -1
       mov      rdi, r15
       shr      rdi, 20
       and      rdi, 0xFFC
       add      rdi, rdx
       mov      r11, rdi
       cmp      r11, r10
       ja       G_M000_IG20
       mov      edi, dword ptr [r9+r11]
       mov      rsi, rdi
       mov      dword ptr [rbx+0x08], 2
       lea      rax, bword ptr [rbx+0x10]
       mov      r12, rax
       shr      rdx, 12
       mov      qword ptr [r12+0x08], rdx
       lea      rdx, bword ptr [rbx+0x38]
       mov      r12, rdx
       mov      qword ptr [r12+0x08], r11
       lea      r12, bword ptr [rbx+0x60]
       mov      bword ptr [rbp-0x68], r12
       mov      r11, r12
       mov      qword ptr [r11+0x08], rsi
       lea      r11, bword ptr [rbx+0x88]
       mov      bword ptr [rbp-0x70], r11
       mov      byte  ptr [r11+0x01], 7
       mov      r11d, edi
       and      r11d, 6
       or       r11d, 1
       and      r11d, 7
       test     dil, 1
       je       G_M000_IG22
       test     dil, 128
       jne      G_M000_IG17
 
G_M000_IG10:                ;; offset=0x0193
       test     rdi, qword ptr [r14+0x18]
       jne      G_M000_IG24
       mov      ecx, 0xFFFFF000
       and      rcx, rdi
       mov      rsi, r15
       shr      rsi, 10
       and      rsi, 0xFFC
       add      rsi, rcx
       cmp      rsi, r10
       ja       G_M000_IG26
       mov      r9d, dword ptr [r9+rsi]
       mov      r10, r9
       mov      r12, r10
       mov      dword ptr [rbx+0x08], 1
       shr      rcx, 12
       mov      qword ptr [rax], rcx
       mov      qword ptr [rdx], rsi
       mov      rcx, bword ptr [rbp-0x68]
       mov      qword ptr [rcx], r12
       mov      rcx, bword ptr [rbp-0x70]
       mov      byte  ptr [rcx], r11b
       mov      ecx, r9d
       and      ecx, 6
       or       ecx, 1
       and      r11d, ecx
       test     r9b, 1
       je       G_M000_IG28
       test     r12, qword ptr [r14+0x28]
       jne      G_M000_IG29
       mov      eax, 1
       mov      qword ptr [rbp-0x50], 0x1000
       mov      ecx, 0xFFFFF000
       and      rcx, r12
       mov      qword ptr [rbp-0x48], rcx
 
G_M000_IG11:                ;; offset=0x0221
       movzx    rcx, byte  ptr [rbp-0x2C]
       cmp      ecx, 256
       jae      G_M000_IG33
       mov      rsi, 0x7FCFB7582428
       movzx    rcx, byte  ptr [rsi+rcx]
       mov      dword ptr [rbp-0x54], r11d
       bt       ecx, r11d
       jb       G_M000_IG30
 
G_M000_IG12:                ;; offset=0x024D
       and      edi, r10d
       test     dil, 32
       je       G_M000_IG19
 
G_M000_IG13:                ;; offset=0x025A
       test     r13d, r13d
       jne      G_M000_IG18
 
G_M000_IG14:                ;; offset=0x0263
       mov      dword ptr [rbx+0x08], eax
       mov      r9, qword ptr [rbp-0x50]
       lea      rax, [r9-0x01]
       and      rax, r15
       or       rax, qword ptr [rbp-0x48]
       mov      qword ptr [rbx+0x98], rax
       mov      qword ptr [rbx+0xA0], r9
       mov      r11d, dword ptr [rbp-0x54]
       mov      dword ptr [rbx+0x90], r11d
       xor      eax, eax
       mov      dword ptr [rbx+0xA8], eax
       mov      eax, 1
 
G_M000_IG15:                ;; offset=0x029B
       add      rsp, 88
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       ret      
 
G_M000_IG16:                ;; offset=0x02AA
       mov      r8d, dword ptr [r14+0x34]
       jmp      G_M000_IG04
 
G_M000_IG17:                ;; offset=0x02B3
       cmp      byte  ptr [r14+0x38], 0
       je       G_M000_IG10
       test     rsi, qword ptr [r14+0x20]
       jne      G_M000_IG24
       mov      r12d, 2
       mov      edx, 0x400000
       mov      eax, 0xFFC00000
       and      rax, rsi
       mov      qword ptr [rbp-0x78], rax
       mov      rax, rsi
       and      rax, 0x1FE000
       shl      rax, 19
       or       rax, qword ptr [rbp-0x78]
       mov      qword ptr [rbp-0x50], rdx
       mov      qword ptr [rbp-0x48], rax
       mov      eax, r12d
       mov      r10, rcx
       mov      r12, rsi
       jmp      G_M000_IG11
 
G_M000_IG18:                ;; offset=0x0306
       test     r12b, 64
       jne      G_M000_IG14
 
G_M000_IG19:                ;; offset=0x0310
       test     r13d, r13d
       setne    cl
       movzx    rcx, cl
       mov      rdi, r8
       mov      rsi, rbx
       mov      dword ptr [rbp-0x58], eax
       mov      edx, eax
       call     [ShadowMmu.Benchmarks.Proposed.Legacy32WalkerProposed:SetAccessedDirty(ShadowMmu.GuestMemory,byref,int,bool):bool]
       test     eax, eax
       mov      eax, dword ptr [rbp-0x58]
       mov      r8, gword ptr [rbp-0x60]
       mov      r9, qword ptr [rbp-0x38]
       mov      r10, qword ptr [rbp-0x40]
       je       G_M000_IG05
       jmp      G_M000_IG14
 
G_M000_IG20:                ;; offset=0x0346
       mov      eax, dword ptr [rbp-0x30]
       mov      rdi, rbx
       mov      r8d, eax
       mov      rcx, r11
       mov      esi, 2
 
G_M000_IG21:                ;; offset=0x0357
       add      rsp, 88
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG22:                ;; offset=0x036B
       mov      dword ptr [rbx+0x08], 2
 
G_M000_IG23:                ;; offset=0x0372
       mov      byte  ptr [rbx+0xAC], 1
       mov      r15d, dword ptr [rbp-0x30]
       mov      dword ptr [rbx+0xB0], r15d
       jmp      SHORT G_M000_IG31
 
G_M000_IG24:                ;; offset=0x0386
       mov      dword ptr [rbx+0x08], 2
 
G_M000_IG25:                ;; offset=0x038D
       mov      byte  ptr [rbx+0xAC], 1
       mov      r15d, dword ptr [rbp-0x30]
       mov      eax, r15d
       or       eax, 9
       mov      dword ptr [rbx+0xB0], eax
       jmp      SHORT G_M000_IG31
 
G_M000_IG26:                ;; offset=0x03A6
       mov      rdi, rbx
       mov      r8d, dword ptr [rbp-0x30]
       mov      rdx, rcx
       mov      rcx, rsi
       mov      esi, 1
 
G_M000_IG27:                ;; offset=0x03B8
       add      rsp, 88
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG28:                ;; offset=0x03CC
       mov      dword ptr [rbx+0x08], 1
       jmp      SHORT G_M000_IG23
 
G_M000_IG29:                ;; offset=0x03D5
       mov      dword ptr [rbx+0x08], 1
       jmp      SHORT G_M000_IG25
 
G_M000_IG30:                ;; offset=0x03DE
       mov      dword ptr [rbx+0x08], eax
       mov      byte  ptr [rbx+0xAC], 1
       mov      r15d, dword ptr [rbp-0x30]
       or       r15d, 1
       mov      dword ptr [rbx+0xB0], r15d
 
G_M000_IG31:                ;; offset=0x03F7
       xor      eax, eax
 
G_M000_IG32:                ;; offset=0x03F9
       add      rsp, 88
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       ret      
 
G_M000_IG33:                ;; offset=0x0408
       call     CORINFO_HELP_RNGCHKFAIL
       int3     
 
; Total bytes of code 1038

