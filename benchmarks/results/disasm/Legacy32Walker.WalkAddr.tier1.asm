; DOTNET_JitDisasm listing, in-process run (-- --inprocess --filter '*ProposedEmission*'): the Tier-1 code of Legacy32Walker.WalkAddr.
; Assembly listing for method ShadowMmu.Legacy32Walker:WalkAddr(byref,ulong,byte,int,bool):bool:this (Tier1)
; Emitting BLENDED_CODE for generic X64 + VEX + EVEX on Unix
; Tier1 code
; optimized code
; optimized using Dynamic PGO
; rbp based frame
; fully interruptible
; with Dynamic PGO: fgCalledCount is 918144
; 7 inlinees with PGO data; 49 single block inlinees; 0 inlinees without PGO data

G_M000_IG01:                ;; offset=0x0000
       push     rbp
       push     r15
       push     r14
       push     r13
       push     r12
       push     rbx
       sub      rsp, 56
       lea      rbp, [rsp+0x60]
       mov      r15, rdi
       mov      rbx, rsi
       mov      r14, rdx
 
G_M000_IG02:                ;; offset=0x001C
       mov      r14d, r14d
       mov      qword ptr [rbx], r14
       xor      edi, edi
       mov      dword ptr [rbx+0xB8], edi
 
G_M000_IG03:                ;; offset=0x002A
       mov      dword ptr [rbx+0x08], edi
 
G_M000_IG04:                ;; offset=0x002D
       mov      dword ptr [rbx+0x0C], edi
 
G_M000_IG05:                ;; offset=0x0030
       mov      dword ptr [rbx+0x90], edi
 
G_M000_IG06:                ;; offset=0x0036
       mov      qword ptr [rbx+0x98], rdi
 
G_M000_IG07:                ;; offset=0x003D
       mov      qword ptr [rbx+0xA0], rdi
 
G_M000_IG08:                ;; offset=0x0044
       mov      dword ptr [rbx+0xA8], edi
       mov      byte  ptr [rbx+0xAC], 0
 
G_M000_IG09:                ;; offset=0x0051
       mov      dword ptr [rbx+0xB0], edi
       mov      byte  ptr [rbx+0xB4], 0
       cmp      cl, 1
       sete     r13b
       movzx    r13, r13b
       mov      r12d, r13d
       cmp      cl, 2
       sete     dil
       movzx    rdi, dil
       cmp      r8d, 3
       sete     r8b
       movzx    r8, r8b
       or       r13d, dword ptr [r15+0x30]
       mov      eax, 2
       xor      esi, esi
       test     r8d, r8d
       cmove    eax, esi
       or       r13d, eax
       test     r9b, r9b
       jne      G_M000_IG39
 
G_M000_IG10:                ;; offset=0x00A0
       xor      eax, eax
 
G_M000_IG11:                ;; offset=0x00A2
       or       r13d, eax
       mov      eax, 8
       xor      esi, esi
       test     edi, edi
       cmove    eax, esi
       or       r13d, eax
       mov      eax, 2
 
G_M000_IG12:                ;; offset=0x00B9
       test     r12d, r12d
       cmove    eax, esi
       mov      r10d, 4
 
G_M000_IG13:                ;; offset=0x00C5
       test     r8d, r8d
       cmove    r10d, esi
       or       eax, r10d
       test     edi, edi
       jne      G_M000_IG41
 
G_M000_IG14:                ;; offset=0x00D7
       xor      r10d, r10d
 
G_M000_IG15:                ;; offset=0x00DA
       or       eax, r10d
       mov      dword ptr [rbp-0x2C], eax
 
G_M000_IG16:                ;; offset=0x00E0
       mov      dword ptr [rbx+0x08], 2
       mov      dword ptr [rbx+0x0C], 2
       xor      r8d, r8d
       mov      dword ptr [rbx+0x90], r8d
 
G_M000_IG17:                ;; offset=0x00F8
       mov      qword ptr [rbx+0x98], r8
 
G_M000_IG18:                ;; offset=0x00FF
       mov      qword ptr [rbx+0xA0], r8
 
G_M000_IG19:                ;; offset=0x0106
       mov      dword ptr [rbx+0xA8], r8d
       mov      byte  ptr [rbx+0xAC], 0
 
G_M000_IG20:                ;; offset=0x0114
       mov      dword ptr [rbx+0xB0], r8d
       mov      byte  ptr [rbx+0xB4], 0
       mov      rdx, qword ptr [r15+0x10]
       mov      rcx, r14
       shr      rcx, 20
       and      rcx, 0xFFC
       add      rcx, rdx
       mov      r8, gword ptr [r15+0x08]
       mov      rdi, qword ptr [r8+0x20]
       cmp      rcx, rdi
       jae      G_M000_IG42
       sub      rdi, rcx
       cmp      rdi, 4
       jb       G_M000_IG42
       test     cl, 3
       jne      G_M000_IG37
 
G_M000_IG21:                ;; offset=0x015E
       mov      r8, qword ptr [r8+0x18]
       mov      r8d, dword ptr [r8+rcx]
 
G_M000_IG22:                ;; offset=0x0166
       mov      edi, 1
 
G_M000_IG23:                ;; offset=0x016B
       mov      r10d, r8d
       test     edi, edi
       je       G_M000_IG49
       mov      dword ptr [rbx+0x08], 2
       lea      r8, bword ptr [rbx+0x10]
       shr      rdx, 12
       mov      qword ptr [r8+0x08], rdx
       lea      r8, bword ptr [rbx+0x38]
       mov      qword ptr [r8+0x08], rcx
       lea      r11, bword ptr [rbx+0x60]
       mov      bword ptr [rbp-0x58], r11
       mov      rcx, r11
       mov      qword ptr [rcx+0x08], r10
       lea      r8, bword ptr [rbx+0x88]
       mov      byte  ptr [r8+0x01], 7
       mov      r8d, r10d
       and      r8d, 6
       or       r8d, 1
       and      r8d, 7
       test     r10b, 1
       je       G_M000_IG51
       test     r10b, 128
       jne      G_M000_IG43
 
G_M000_IG24:                ;; offset=0x01CF
       test     r10, qword ptr [r15+0x18]
       jne      G_M000_IG53
       mov      edx, 0xFFFFF000
       and      rdx, r10
       mov      rcx, r14
       shr      rcx, 10
       and      rcx, 0xFFC
       add      rcx, rdx
       mov      r10, gword ptr [r15+0x08]
       mov      r9, qword ptr [r10+0x20]
       cmp      rcx, r9
       jae      G_M000_IG44
       sub      r9, rcx
       cmp      r9, 4
       jb       G_M000_IG44
       test     cl, 3
       jne      G_M000_IG38
 
G_M000_IG25:                ;; offset=0x0219
       mov      r10, qword ptr [r10+0x18]
       mov      edi, dword ptr [r10+rcx]
 
G_M000_IG26:                ;; offset=0x0221
       mov      esi, 1
 
G_M000_IG27:                ;; offset=0x0226
       mov      r10d, edi
       test     esi, esi
       je       G_M000_IG55
       mov      dword ptr [rbx+0x08], 1
       lea      rdi, bword ptr [rbx+0x10]
       mov      rsi, rdx
       shr      rsi, 12
       mov      qword ptr [rdi], rsi
       lea      rdi, bword ptr [rbx+0x38]
       mov      qword ptr [rdi], rcx
       mov      rdi, r11
       mov      qword ptr [rdi], r10
       lea      rdi, bword ptr [rbx+0x88]
       mov      byte  ptr [rdi], r8b
       mov      edi, r10d
       and      edi, 6
       or       edi, 1
       and      r8d, edi
       test     r10b, 1
       je       G_M000_IG57
       test     r10, qword ptr [r15+0x28]
       jne      G_M000_IG58
       mov      r9d, 1
       mov      qword ptr [rbp-0x40], 0x1000
       mov      edi, 0xFFFFF000
       and      r10, rdi
       mov      qword ptr [rbp-0x38], r10
 
G_M000_IG28:                ;; offset=0x0297
       cmp      r13d, 256
       jae      G_M000_IG62
       mov      edi, r13d
       mov      rsi, 0x7FC358BFF338
       movzx    rdi, byte  ptr [rsi+rdi]
       mov      dword ptr [rbp-0x44], r8d
       bt       edi, r8d
       jb       G_M000_IG59
 
G_M000_IG29:                ;; offset=0x02C4
       mov      rsi, gword ptr [r15+0x08]
       mov      gword ptr [rbp-0x50], rsi
       mov      dword ptr [rbp-0x48], r9d
       cmp      r9d, 2
       sete     dil
       movzx    rdi, dil
       test     edi, r12d
       jne      G_M000_IG45
       mov      edi, 32
 
G_M000_IG30:                ;; offset=0x02EA
       mov      edi, edi
       mov      rcx, r11
       mov      rcx, qword ptr [rcx+0x08]
       mov      rsi, rcx
       and      rsi, rdi
       cmp      rsi, rdi
       jne      G_M000_IG46
 
G_M000_IG31:                ;; offset=0x0302
       cmp      dword ptr [rbp-0x48], 1
       jne      SHORT G_M000_IG35
 
G_M000_IG32:                ;; offset=0x0308
       mov      rsi, gword ptr [r15+0x08]
       test     r12d, r12d
       jne      G_M000_IG47
 
G_M000_IG33:                ;; offset=0x0315
       mov      edi, 32
 
G_M000_IG34:                ;; offset=0x031A
       mov      edi, edi
       mov      r11, bword ptr [rbp-0x58]
       mov      rcx, qword ptr [r11]
       mov      r11, rcx
       and      r11, rdi
       cmp      r11, rdi
       jne      G_M000_IG48
 
G_M000_IG35:                ;; offset=0x0332
       mov      r9d, dword ptr [rbp-0x48]
       mov      dword ptr [rbx+0x08], r9d
       mov      rdx, qword ptr [rbp-0x40]
       lea      rax, [rdx-0x01]
       and      rax, r14
       or       rax, qword ptr [rbp-0x38]
       mov      qword ptr [rbx+0x98], rax
       mov      qword ptr [rbx+0xA0], rdx
       mov      r8d, dword ptr [rbp-0x44]
       mov      dword ptr [rbx+0x90], r8d
       xor      eax, eax
       mov      dword ptr [rbx+0xA8], eax
       mov      eax, 1
 
G_M000_IG36:                ;; offset=0x036F
       add      rsp, 56
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       ret      
 
G_M000_IG37:                ;; offset=0x037E
       mov      r8, qword ptr [r8+0x18]
       mov      r8d, dword ptr [r8+rcx]
       jmp      G_M000_IG22
 
G_M000_IG38:                ;; offset=0x038B
       mov      rdi, qword ptr [r10+0x18]
       mov      edi, dword ptr [rdi+rcx]
       jmp      G_M000_IG26
 
G_M000_IG39:                ;; offset=0x0397
       test     r8d, r8d
       jne      G_M000_IG10
 
G_M000_IG40:                ;; offset=0x03A0
       mov      eax, 4
       jmp      G_M000_IG11
 
G_M000_IG41:                ;; offset=0x03AA
       mov      r10d, dword ptr [r15+0x34]
       jmp      G_M000_IG15
 
G_M000_IG42:                ;; offset=0x03B3
       xor      r8d, r8d
       xor      edi, edi
       jmp      G_M000_IG23
 
G_M000_IG43:                ;; offset=0x03BD
       cmp      byte  ptr [r15+0x38], 0
       je       G_M000_IG24
       test     r10, qword ptr [r15+0x20]
       jne      G_M000_IG53
       mov      r9d, 2
       mov      edx, 0x400000
       mov      ecx, 0xFFC00000
       and      rcx, r10
       and      r10, 0x1FE000
       shl      r10, 19
       or       r10, rcx
       mov      qword ptr [rbp-0x40], rdx
       mov      qword ptr [rbp-0x38], r10
       jmp      G_M000_IG28
 
G_M000_IG44:                ;; offset=0x0400
       xor      edi, edi
       xor      esi, esi
       jmp      G_M000_IG27
 
G_M000_IG45:                ;; offset=0x0409
       mov      edi, 96
       jmp      G_M000_IG30
 
G_M000_IG46:                ;; offset=0x0413
       mov      r8, rcx
       or       r8, rdi
       mov      rdi, rbx
       mov      rsi, gword ptr [rbp-0x50]
       mov      edx, 2
       mov      r9d, 4
       call     [ShadowMmu.GuestWalk:TrySetFlagsSlow(ShadowMmu.GuestMemory,int,ulong,ulong,int):bool:this]
       test     eax, eax
       je       G_M000_IG16
       jmp      G_M000_IG31
 
G_M000_IG47:                ;; offset=0x043E
       mov      edi, 96
       jmp      G_M000_IG34
 
G_M000_IG48:                ;; offset=0x0448
       mov      r8, rcx
       or       r8, rdi
       mov      rdi, rbx
       mov      edx, 1
       mov      r9d, 4
       call     [ShadowMmu.GuestWalk:TrySetFlagsSlow(ShadowMmu.GuestMemory,int,ulong,ulong,int):bool:this]
       test     eax, eax
       je       G_M000_IG16
       jmp      G_M000_IG35
 
G_M000_IG49:                ;; offset=0x046F
       mov      eax, dword ptr [rbp-0x2C]
       mov      rdi, rbx
       mov      r8d, eax
       mov      esi, 2
 
G_M000_IG50:                ;; offset=0x047D
       add      rsp, 56
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG51:                ;; offset=0x0491
       mov      dword ptr [rbx+0x08], 2
 
G_M000_IG52:                ;; offset=0x0498
       mov      byte  ptr [rbx+0xAC], 1
       mov      eax, dword ptr [rbp-0x2C]
       mov      dword ptr [rbx+0xB0], eax
       jmp      SHORT G_M000_IG60
 
G_M000_IG53:                ;; offset=0x04AA
       mov      dword ptr [rbx+0x08], 2
 
G_M000_IG54:                ;; offset=0x04B1
       mov      byte  ptr [rbx+0xAC], 1
       mov      eax, dword ptr [rbp-0x2C]
       or       eax, 9
       mov      dword ptr [rbx+0xB0], eax
       jmp      SHORT G_M000_IG60
 
G_M000_IG55:                ;; offset=0x04C6
       mov      eax, dword ptr [rbp-0x2C]
       mov      rdi, rbx
       mov      r8d, eax
       mov      esi, 1
 
G_M000_IG56:                ;; offset=0x04D4
       add      rsp, 56
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG57:                ;; offset=0x04E8
       mov      eax, dword ptr [rbp-0x2C]
       mov      dword ptr [rbx+0x08], 1
       jmp      SHORT G_M000_IG52
 
G_M000_IG58:                ;; offset=0x04F4
       mov      eax, dword ptr [rbp-0x2C]
       mov      dword ptr [rbx+0x08], 1
       jmp      SHORT G_M000_IG54
 
G_M000_IG59:                ;; offset=0x0500
       mov      dword ptr [rbx+0x08], r9d
       mov      byte  ptr [rbx+0xAC], 1
       mov      eax, dword ptr [rbp-0x2C]
       or       eax, 1
       mov      dword ptr [rbx+0xB0], eax
 
G_M000_IG60:                ;; offset=0x0517
       xor      eax, eax
 
G_M000_IG61:                ;; offset=0x0519
       add      rsp, 56
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       ret      
 
G_M000_IG62:                ;; offset=0x0528
       call     CORINFO_HELP_RNGCHKFAIL
       int3     
 
; Total bytes of code 1326

